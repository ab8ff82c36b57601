import type { LoadedEnvironment } from '../manifest/types.js';
import type { ActualState } from './types.js';

/**
 * What plan() reads of an observed environment, as one string: two equal
 * fingerprints plan the same. Built from every field of every container plan
 * looks at (identity, slot, spec hash, image and image id, state, health,
 * exit code, what inspect told), the image lookups, the edge proxies and the
 * engine's API version.
 */
export function actualFingerprint(actual: ActualState): string {
  const parts: string[] = [actual.engine?.apiVersion ?? ''];
  for (const c of actual.containers) {
    const d = c.details;
    parts.push(
      [c.id, c.name, c.service, c.replica, c.slot, c.specHash, c.revision, c.image, c.imageId, c.state, c.health, c.exitCode ?? '', c.edgeColor ?? '',
        d ? [d.restartCount, d.exitCode, d.restartPolicy, d.memoryBytes ?? '', d.nanoCpus ?? '', d.pidsLimit ?? ''].join(',') : '-'].join('|'),
    );
  }
  for (const [ref, id] of Object.entries(actual.images)) parts.push(`image|${ref}|${id ?? ''}`);
  for (const e of actual.edges ?? []) parts.push(`edge|${e.id}|${e.name}|${e.service}|${e.hash}|${e.state}`);
  return parts.join('\n');
}

/**
 * The environments whose last plan had nothing to do, and what they were
 * planned from. plan() is pure: the same desired environment (the same
 * object, so the same revision's manifests), the same revision and the same
 * observed state plan nothing again, so a drift check that observes no change
 * skips planning. At 1,000 services planning was most of an idle daemon's CPU.
 */
export class QuietPlans {
  private readonly last = new Map<string, { env: LoadedEnvironment; revision: string; fingerprint: string }>();

  /** True when this environment was planned from exactly this and nothing was to do. */
  unchanged(env: LoadedEnvironment, revision: string, fingerprint: string): boolean {
    const q = this.last.get(env.name);
    return q !== undefined && q.env === env && q.revision === revision && q.fingerprint === fingerprint;
  }

  /** True when the last plan of this environment, at this revision and from these manifests, had nothing to do. */
  holds(env: LoadedEnvironment, revision: string): boolean {
    const q = this.last.get(env.name);
    return q !== undefined && q.env === env && q.revision === revision;
  }

  /** Remembers a plan with nothing to do; anything else forgets the environment. */
  record(env: LoadedEnvironment, revision: string, fingerprint: string, quiet: boolean): void {
    if (quiet) this.last.set(env.name, { env, revision, fingerprint });
    else this.last.delete(env.name);
  }
}
