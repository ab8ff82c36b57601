import type { ImageStatus } from './automation.js';

/** `stagecoach status` lines for the watched services. */
export function imageStatusLines(images: readonly ImageStatus[] | undefined): string[] {
  if (!images || images.length === 0) return [];
  const lines = ['image automation:'];
  for (const i of images) {
    const newest = i.newestAllowed && i.newestAllowed !== i.current ? `  newest allowed ${i.newestAllowed}` : i.newestAllowed ? '  (newest allowed)' : '';
    lines.push(`  ${i.environment}/${i.service}: ${i.current}${newest}  [${i.policy}]  checked ${i.lastCheck ?? 'never'}`);
    if (i.lastUpdate) lines.push(`    last update: ${i.lastUpdate.to} (${i.lastUpdate.commit?.slice(0, 7) ?? '-'}, ${i.lastUpdate.at})`);
    if (i.lastError) lines.push(`    error: ${i.lastError}`);
  }
  return lines;
}

/** The status page's table of watched services; `escape` is the page's HTML escaper. */
export function imageStatusHtml(images: readonly ImageStatus[] | undefined, escape: (s: string) => string): string {
  if (!images || images.length === 0) return '';
  const rows = images
    .map((i) => `<tr><td>${escape(`${i.environment}/${i.service}`)}</td><td><code>${escape(i.current)}</code></td><td><code>${escape(i.newestAllowed ?? '-')}</code></td><td>${escape(i.policy)}</td><td>${escape(i.lastCheck ?? 'never')}</td><td>${i.lastError ? `<b>${escape(i.lastError)}</b>` : ''}</td></tr>`)
    .join('');
  return `<section><h2>image automation</h2><table><tr><th>service</th><th>image</th><th>newest allowed</th><th>policy</th><th>last check</th><th>last error</th></tr>${rows}</table></section>`;
}
