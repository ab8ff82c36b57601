import { createRequire } from 'node:module';
import type Semver from 'semver';
import { compileSafeRegex } from '../policy/regex.js';
import type { SafeRegex } from '../policy/regex.js';

let semverModule: typeof Semver | undefined;
/** semver, loaded when a range is first read: most starts load manifests without one (~25 ms saved). */
export function semverLib(): typeof Semver {
  return (semverModule ??= createRequire(import.meta.url)('semver') as typeof Semver);
}

export const tagOrders = ['numeric', 'alphabetical'] as const;
export type TagOrder = (typeof tagOrders)[number];

/**
 * A service's `imagePolicy`, normalized. `semver` or `pattern` choose which
 * tag is newest; `pin: digest` records the chosen tag's digest too, and alone
 * it follows the tag the image names (e.g. `latest`) by its digest.
 */
export type ImagePolicy =
  | { kind: 'semver'; range: string; prereleases: boolean; pinDigest: boolean }
  | { kind: 'pattern'; pattern: string; order: TagOrder; pinDigest: boolean }
  | { kind: 'digest' };

/** What the policy says about a list of tags, given the tag the image names now. */
export type TagDecision =
  | { outcome: 'newer'; tag: string }
  | { outcome: 'current'; tag: string; newestAllowed?: string }
  | { outcome: 'refused'; reason: string };

/** A readable one-liner for messages and trailers: `semver ^1.4`, `pattern ^main-(\d+)$ (numeric)`, `digest`. */
export function describePolicy(policy: ImagePolicy): string {
  if (policy.kind === 'digest') return 'digest';
  const pin = policy.pinDigest ? ', pinned by digest' : '';
  if (policy.kind === 'semver') return `semver ${policy.range}${policy.prereleases ? ' (prereleases)' : ''}${pin}`;
  return `pattern ${policy.pattern} (${policy.order})${pin}`;
}

/**
 * The newest tag the policy allows, if it is newer than the current one.
 * Never a downgrade: a current tag above every allowed one stays. Pure.
 */
export function chooseTag(policy: ImagePolicy, current: string | undefined, tags: readonly string[]): TagDecision {
  if (policy.kind === 'digest') {
    return current ? { outcome: 'current', tag: current } : { outcome: 'refused', reason: 'a digest policy follows the tag in image:, and the image names none' };
  }
  const key = policy.kind === 'semver' ? semverKey(policy) : patternKey(policy);
  if ('reason' in key) return { outcome: 'refused', reason: key.reason };
  try {
    return newestOf(key, policy, current, tags);
  } finally {
    key.dispose?.();
  }
}

function newestOf(key: TagKey, policy: Exclude<ImagePolicy, { kind: 'digest' }>, current: string | undefined, tags: readonly string[]): TagDecision {
  const allowed = tags.filter((t) => key.allows(t));
  let newest: string | undefined;
  for (const t of allowed) if (newest === undefined || key.compare(t, newest) > 0) newest = t;
  if (current === undefined) return newest ? { outcome: 'newer', tag: newest } : { outcome: 'refused', reason: `no tag matches ${describePolicy(policy)}` };
  if (!key.orders(current)) return { outcome: 'refused', reason: `the current tag "${current}" is not ordered by ${describePolicy(policy)}; set image: to a tag it orders, then it moves by itself` };
  if (newest !== undefined && key.compare(newest, current) > 0) return { outcome: 'newer', tag: newest };
  return { outcome: 'current', tag: current, ...(newest !== undefined ? { newestAllowed: newest } : {}) };
}

interface TagKey {
  /** The tag is a candidate. */
  allows(tag: string): boolean;
  /** The tag can be compared (the current one need not be allowed: it may sit above the range). */
  orders(tag: string): boolean;
  compare(a: string, b: string): number;
  /** Frees what the key compiled (a pattern's RE2 program). */
  dispose?(): void;
}

function semverKey(policy: { range: string; prereleases: boolean }): TagKey | { reason: string } {
  const semver = semverLib();
  const range = semver.validRange(policy.range);
  if (range === null) return { reason: `"${policy.range}" is not a semver range` };
  const parse = (t: string) => semver.parse(t);
  return {
    allows: (t) => {
      const v = parse(t);
      return v !== null && semver.satisfies(v, policy.range, { includePrerelease: policy.prereleases });
    },
    orders: (t) => parse(t) !== null,
    compare: (a, b) => semver.compare(parse(a)!, parse(b)!) || (a < b ? -1 : a > b ? 1 : 0),
  };
}

function patternKey(policy: { pattern: string; order: TagOrder }): TagKey | { reason: string } {
  const compiled = compilePolicyPattern(policy.pattern);
  if (!compiled.ok) return { reason: `pattern ${compiled.reason}` };
  const regex: SafeRegex = compiled.regex;
  const keyOf = (t: string): string | undefined => regex.exec(t)?.[1] ?? undefined;
  const numeric = policy.order === 'numeric';
  const ok = (t: string) => {
    const k = keyOf(t);
    return k !== undefined && (!numeric || /^\d{1,30}$/.test(k));
  };
  return {
    dispose: () => regex.dispose(),
    allows: ok,
    orders: ok,
    compare: (a, b) => {
      const ka = keyOf(a)!;
      const kb = keyOf(b)!;
      const c = numeric ? cmpBig(ka, kb) : ka < kb ? -1 : ka > kb ? 1 : 0;
      return c !== 0 ? c : a < b ? -1 : a > b ? 1 : 0;
    },
  };
}

/** Longest tag pattern accepted from a repo: bounds compile time and memory. */
export const maxTagPatternLength = 256;

/** The pattern anchored at both ends (the whole tag must match: "main-1-abc-broken" is not "main-1-abc"), with its ordering key in group 1. */
export function compilePolicyPattern(pattern: string): { ok: true; regex: SafeRegex } | { ok: false; reason: string } {
  if (pattern.length > maxTagPatternLength) return { ok: false, reason: `is ${pattern.length} characters, longer than the ${maxTagPatternLength}-character limit for a tag pattern` };
  const compiled = compileSafeRegex(`^(?:${pattern})$`, { maxLength: maxTagPatternLength + 6 });
  if (!compiled.ok) return { ok: false, reason: compiled.error };
  if (compiled.regex.groups < 1) {
    compiled.regex.dispose();
    return { ok: false, reason: 'has no capture group: the first group, e.g. (\\d+), is the ordering key' };
  }
  return compiled;
}

function cmpBig(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
