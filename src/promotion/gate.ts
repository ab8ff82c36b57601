import type { LoadedEnvironment } from '../manifest/types.js';
import type { MarkerRef } from './marker-index.js';

export interface GateLookup {
  passing(environment: string, image: string, digest: string | null): MarkerRef | undefined;
  latest(environment: string): MarkerRef | undefined;
  /** Markers that were not trusted (unsigned, or signed by a key the operator does not list), and why. */
  ignored?(environment: string): { commit: string; why: string }[];
}

/**
 * The gate of an environment with promotion.from: every service image must
 * have a passing marker upstream. Pure: returns the reasons it is blocked
 * (empty when open), each naming the unverified image and where upstream stands.
 */
export function gateReasons(env: LoadedEnvironment, lookup: GateLookup, digests: Readonly<Record<string, string | null>>): string[] {
  const upstream = env.environment.promotion.from;
  if (!upstream) return [];
  const latest = lookup.latest(upstream);
  const where = latest
    ? `${upstream}'s latest marker: ${latest.result} at ${latest.revision.slice(0, 7)} with ${latest.images.map((i) => `${i.service}=${i.image}`).join(', ') || 'no services'}`
    : `${upstream} has no markers yet`;
  const ignored = lookup.ignored?.(upstream) ?? [];
  const untrusted = ignored.length ? `; ignored ${ignored.length === 1 ? 'marker' : 'markers'} ${ignored.map((i) => `${i.commit.slice(0, 7)} (${i.why})`).join(', ')}` : '';
  const reasons: string[] = [];
  for (const service of env.services) {
    const image = service.spec.image;
    if (lookup.passing(upstream, image, digests[image] ?? null)) continue;
    reasons.push(`image ${image} of service ${service.name} has no passing marker in ${upstream} (${where}${untrusted})`);
  }
  return reasons;
}
