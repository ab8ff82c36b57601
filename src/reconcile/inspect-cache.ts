import { labels } from '../runtime/labels.js';
import type { ContainerDetails, ContainerRuntime, ContainerSummary } from '../runtime/types.js';

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

  /**
   * Follows the engine's `update` events (docker update: restart policy,
   * limits) for managed containers and forgets those containers, so drift
   * made by hand is seen at the next check. If the stream ends, everything
   * is forgotten (re-inspected) and it is followed again after retryMs.
   */
  follow(runtime: ContainerRuntime, retryMs = 5_000): { close(): void } {
    let handle: { close(): void } | undefined;
    let timer: NodeJS.Timeout | undefined;
    let closed = false;
    const subscribe = () => {
      handle = runtime.watchEvents({ [labels.managed]: 'true' }, (e) => e.id && this.forget(e.id), () => {
        this.entries.clear();
        if (!closed) (timer = setTimeout(subscribe, retryMs)).unref();
      }, { actions: ['update'] });
    };
    subscribe();
    return {
      close: () => {
        closed = true;
        clearTimeout(timer);
        handle?.close();
      },
    };
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
