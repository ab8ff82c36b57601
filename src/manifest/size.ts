const sizeUnits = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const;

/** `256m`, `1g`, `1.5g`, `512mb`, `1GiB`, `64 MB`, `1048576` → bytes (binary units, as Docker reads them); undefined if malformed. */
export function parseSize(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  const match = /^([0-9]+(?:\.[0-9]+)?)\s*(?:([kmg])i?b?|(b)?)$/i.exec(value.trim());
  if (!match) return undefined;
  const unit = (match[2] || 'b').toLowerCase() as keyof typeof sizeUnits;
  return Math.round(Number(match[1]) * sizeUnits[unit]);
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
