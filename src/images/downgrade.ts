import semver from 'semver';
import { parseImageRef } from '../manifest/image-ref.js';

/**
 * Whether replacing `current` with `next` moves a semver tag of the same
 * image backwards (a re-run of an old CI job, say). Tags that are not semver,
 * or different images, cannot be ordered and are never called a downgrade.
 */
export function isSemverDowngrade(current: string, next: string): boolean {
  const a = parseImageRef(current);
  const b = parseImageRef(next);
  if (!a.ok || !b.ok || a.ref.registry !== b.ref.registry || a.ref.repository !== b.ref.repository) return false;
  const va = a.ref.tag ? semver.parse(a.ref.tag) : null;
  const vb = b.ref.tag ? semver.parse(b.ref.tag) : null;
  return va !== null && vb !== null && semver.lt(vb, va);
}
