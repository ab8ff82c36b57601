import { keepFollowing } from '../runtime/event-stream.js';
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
   * How long an inspect stays good while the list call shows no change;
   * default: until the engine says the container changed. What only inspect
   * tells (a restart policy or limit changed with `docker update`, a restart
   * count) changes with an engine event that follow() hears, and a gap in the
   * event stream forgets everything, so no periodic re-inspect is needed: at
   * 1,000 containers one every 5 min cost 1,000 inspects in a single check.
   */
  maxAgeMs?: number;
  now?: () => number;
}

/** Engine events after which what inspect told may be stale: `docker update`, and a restart (count, exit code). */
export const staleEvents = ['update', 'die', 'start', 'restart', 'oom'] as const;

/** What the list call shows of a container that would change if it changed. */
function listKey(c: ContainerSummary): string {
  return [c.state, c.health, c.imageId, c.exitCode ?? '', c.labels['io.stagecoach.spec-hash'] ?? ''].join('|');
}

/**
 * Remembers what inspect told about each container, so that a drift check
 * whose list call shows nothing new costs that one call: a container is
 * inspected again only when its state, health, image or spec changed, after
 * forget() (an engine event), or when its entry is older than maxAgeMs if one
 * is set. One per engine, kept by whoever runs the periodic checks; observe()
 * without one inspects all.
 */
export class InspectCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(options: InspectCacheOptions = {}) {
    this.maxAgeMs = options.maxAgeMs ?? Number.POSITIVE_INFINITY;
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
   * Follows the engine's events that can make an inspect stale (staleEvents:
   * docker update, restarts) for managed containers and forgets those
   * containers, so drift made by hand is seen at the next check. Whenever the
   * stream opens (again) or ends, everything is forgotten (re-inspected): what
   * happened while nobody listened is not missed. If it ends, it is followed
   * again after retryMs.
   */
  follow(runtime: ContainerRuntime, retryMs = 5_000): { close(): void } {
    const forgetAll = () => this.entries.clear();
    return keepFollowing(runtime, { [labels.managed]: 'true' }, (e) => e.id && this.forget(e.id), { actions: [...staleEvents], retryMs, onOpen: forgetAll, onEnd: forgetAll });
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
