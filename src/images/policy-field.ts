import { describeValue } from '../manifest/problem.js';
import { compilePolicyPattern, semverLib, tagOrders } from './policy.js';
import type { ImagePolicy, TagOrder } from './policy.js';

/** `imagePolicy:` as written in a Service manifest (already shape-checked by service.schema.json). */
export interface RawImagePolicy {
  semver?: string;
  prereleases?: boolean;
  pattern?: string;
  order?: TagOrder;
  pin?: 'digest';
}

type Report = (segments: (string | number)[], message: string) => void;

/**
 * Normalizes a service's image policy, reporting what the schema cannot see:
 * a range semver cannot read, a pattern RE2 refuses (so nothing from the repo
 * can backtrack) or one without the capture group that orders tags.
 */
export function normalizeImagePolicy(raw: RawImagePolicy | undefined, report: Report): ImagePolicy | null {
  if (raw === undefined) return null;
  const pinDigest = raw.pin === 'digest';
  if (raw.semver !== undefined && raw.pattern !== undefined) report(['imagePolicy'], 'takes semver or pattern, not both');
  if (raw.semver === undefined && raw.pattern === undefined && !pinDigest) report(['imagePolicy'], 'needs one of semver, pattern or pin');
  if (raw.semver !== undefined) {
    if (semverLib().validRange(raw.semver) === null) report(['imagePolicy', 'semver'], `is not a semver range like "^1.4" or ">=2 <3" (got ${describeValue(raw.semver)})`);
    return { kind: 'semver', range: raw.semver, prereleases: raw.prereleases ?? false, pinDigest };
  }
  if (raw.pattern !== undefined) {
    const compiled = compilePolicyPattern(raw.pattern);
    if (!compiled.ok) report(['imagePolicy', 'pattern'], `${compiled.reason} (got ${describeValue(raw.pattern)})`);
    else compiled.regex.dispose();
    return { kind: 'pattern', pattern: raw.pattern, order: raw.order ?? tagOrders[0], pinDigest };
  }
  return { kind: 'digest' };
}
