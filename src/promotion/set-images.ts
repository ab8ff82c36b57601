import { isScalar, parseAllDocuments } from 'yaml';

/**
 * Sets the image of the named services in one manifest file, keeping its
 * comments and layout byte for byte: the new value is spliced in at the
 * scalar's source range. Pure: text in, text out, and which services changed.
 */
export function setServiceImages(text: string, images: Readonly<Record<string, string>>): { text: string; changed: { service: string; from: string; to: string }[] } {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return { text, changed: [] };
  const changed: { service: string; from: string; to: string }[] = [];
  const edits: { start: number; end: number; value: string }[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0 || doc.get('kind') !== 'Service') continue;
    const name = doc.get('name');
    const node = doc.get('image', true);
    if (typeof name !== 'string' || !isScalar(node) || typeof node.value !== 'string' || !node.range) continue;
    const wanted = images[name];
    if (wanted === undefined || wanted === node.value) continue;
    const value = node.type === 'QUOTE_DOUBLE' ? JSON.stringify(wanted) : node.type === 'QUOTE_SINGLE' ? `'${wanted.replace(/'/g, "''")}'` : wanted;
    edits.push({ start: node.range[0], end: node.range[1], value });
    changed.push({ service: name, from: node.value, to: wanted });
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.value + out.slice(e.end);
  return { text: out, changed };
}
