import { parseAllDocuments } from 'yaml';

/**
 * Sets the image of the named services in one manifest file, keeping its
 * comments and layout. Pure: text in, text out, and which services changed.
 */
export function setServiceImages(text: string, images: Readonly<Record<string, string>>): { text: string; changed: { service: string; from: string; to: string }[] } {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return { text, changed: [] };
  const changed: { service: string; from: string; to: string }[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0 || doc.get('kind') !== 'Service') continue;
    const name = doc.get('name');
    const current = doc.get('image');
    if (typeof name !== 'string' || typeof current !== 'string') continue;
    const wanted = images[name];
    if (wanted === undefined || wanted === current) continue;
    doc.set('image', wanted);
    changed.push({ service: name, from: current, to: wanted });
  }
  return changed.length === 0 ? { text, changed } : { text: docs.map((d) => d.toString()).join(''), changed };
}
