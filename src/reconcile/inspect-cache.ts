import type { ContainerDetails, ContainerSummary } from '../runtime/types.js';

export type InspectedDetails = Pick<ContainerDetails, 'restartCount' | 'exitCode' | 'restartPolicy' | 'memoryBytes' | 'nanoCpus' | 'pidsLimit'>;

interface Entry {
  environment: string;
  key: string;
  details: InspectedDetails;
  at: number;
}

export interface InspectCacheOptions {
  /**
   * How long an inspect stays good while the list call shows no change. What
   * only inspect tells (a restart policy or limit changed with `docker
   * update`) is therefore noticed within this time, or at once after
   * forget(id) (the daemon calls it on the engine's `update` event).
   */
  maxAgeMs?: number;
  now?: () => number;
}

/** What the list call shows of a container that would change if it changed. */
function listKey(c: ContainerSummary): string {
  return [c.state, c.health, c.imageId, c.exitCode ?? '', c.labels['io.stagecoach.spec-hash'] ?? ''].join('|');
}

/**
 * Remembers what inspect told about each container, so that a drift check
 * whose list call shows nothing new costs that one call: a container is
 * inspected again only when its state, health, image or spec changed, when
 * its entry is older than maxAgeMs, or after forget(). One per engine, kept
 * by whoever runs the periodic checks; observe() without one inspects all.
 */
export class InspectCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(options: InspectCacheOptions = {}) {
    this.maxAgeMs = options.maxAgeMs ?? 300_000;
    this.now = options.now ?? Date.now;
  }

  /** The remembered details, when the list shows the container unchanged and they are fresh. */
  get(c: ContainerSummary): InspectedDetails | undefined {
    const entry = this.entries.get(c.id);
    if (!entry || entry.key !== listKey(c) || this.now() - entry.at > this.maxAgeMs) return undefined;
    return entry.details;
  }

  set(environment: string, c: ContainerSummary, details: InspectedDetails): void {
    this.entries.set(c.id, { environment, key: listKey(c), details, at: this.now() });
  }

  /** Drops one container (an engine event said it changed). */
  forget(id: string): void {
    this.entries.delete(id);
  }

  /** Drops containers of this environment that the list no longer shows. */
  prune(environment: string, listed: ReadonlySet<string>): void {
    for (const [id, entry] of this.entries) if (entry.environment === environment && !listed.has(id)) this.entries.delete(id);
  }

  /** The engine's API version, once known: it does not change under a running daemon's feet often enough to ask each check. */
  apiVersion: string | undefined;

  get size(): number {
    return this.entries.size;
  }
}
