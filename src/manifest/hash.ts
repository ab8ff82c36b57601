import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';

/** Key-order-stable serialization: the same data always serializes to the same text. */
export function stableStringify(value: unknown): string {
  return stringify(value) ?? 'null';
}

/** `sha256:<hex>` of the stable serialization; stored in the io.stagecoach.spec-hash label. */
export function specHash(value: unknown): string {
  return `sha256:${createHash('sha256').update(stableStringify(value)).digest('hex')}`;
}

export function shortHash(hash: string): string {
  return hash.replace(/^sha256:/, '').slice(0, 12);
}
