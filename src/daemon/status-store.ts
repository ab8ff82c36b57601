import type { Decision, DaemonStatus, EnvironmentStatus } from './status.js';
import { emptyEnvironment, maxDecisions } from './status.js';
import { compareText } from '../text-order.js';

/** What listeners (notifications, say) hear: every decision, with the environment's status after it. */
export const storeEventKinds = ['deploy', 'rollback', 'heal', 'remove', 'recover', 'skip', 'block', 'invalid', 'error', 'verification-passed', 'verification-failed', 'proposal'] as const;
export type StoreEventKind = (typeof storeEventKinds)[number];

export interface StoreEvent {
  kind: StoreEventKind;
  environment: string;
  decision: Readonly<Decision>;
  status: Readonly<EnvironmentStatus>;
}

export type StoreListener = (event: StoreEvent) => void;

/** Everything a step may change about one environment; decisions are appended (newest first), not replaced. */
export type EnvironmentPatch = Partial<Omit<EnvironmentStatus, 'name' | 'decisions' | 'revision'>> & {
  revision?: Partial<EnvironmentStatus['revision']>;
  decisions?: Decision[];
};

function eventKind(decision: Decision): StoreEventKind {
  if (decision.kind === 'verify') return decision.result === 'passed' ? 'verification-passed' : 'verification-failed';
  if (decision.kind === 'promote') return 'proposal';
  return decision.kind;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * The daemon's status with one writer (the daemon) and many readers (the
 * HTTP server, the CLI's "all in sync" line, listeners). Every write makes a
 * new frozen snapshot, so a reader never sees half a cycle. Snapshots share
 * what a write did not touch (frozen, so nobody can change it under another
 * reader): a poll's write is a new top object, not a copy of 1,000 services.
 */
export class StatusStore {
  private current: DaemonStatus;
  private readonly listeners = new Set<StoreListener>();

  constructor(initial: { repo: string; branch: string }) {
    this.current = deepFreeze({ ready: false, repo: initial.repo, branch: initial.branch, remote: { head: null, checkedAt: null, error: null }, environments: [] });
  }

  snapshot(): DaemonStatus {
    return this.current;
  }

  environment(name: string): EnvironmentStatus | undefined {
    return this.current.environments.find((e) => e.name === name);
  }

  /** Listeners hear every decision after it is stored; a listener that throws is not the store's problem. */
  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setReady(): void {
    if (!this.current.ready) this.write((s) => ({ ...s, ready: true }));
  }

  /** Image automation's view of its watched services (it owns them; this is the copy readers see). */
  setImages(images: NonNullable<DaemonStatus['images']>): void {
    this.write((s) => ({ ...s, images }));
  }

  setRemote(remote: Partial<DaemonStatus['remote']>): void {
    this.write((s) => ({ ...s, remote: { ...s.remote, ...remote } }));
  }

  /** Applies a step's result to one environment (created on first mention). */
  patch(name: string, patch: EnvironmentPatch): void {
    const { decisions = [], revision, ...rest } = patch;
    let after: EnvironmentStatus | undefined;
    this.write((s) => {
      const before = s.environments.find((e) => e.name === name) ?? emptyEnvironment(name);
      after = { ...before, ...rest, revision: { ...before.revision, ...revision }, decisions: [...[...decisions].reverse(), ...before.decisions].slice(0, maxDecisions) };
      const others = s.environments.filter((e) => e.name !== name);
      return { ...s, environments: [...others, after].sort((a, b) => compareText(a.name, b.name)) };
    });
    const status = this.environment(name)!;
    for (const decision of decisions) {
      for (const listener of this.listeners) {
        try {
          listener({ kind: eventKind(decision), environment: name, decision, status });
        } catch {
          // A listener's failure must never stop the daemon; listeners log their own errors.
        }
      }
    }
  }

  patches(patches: readonly [string, EnvironmentPatch][]): void {
    for (const [name, patch] of patches) this.patch(name, patch);
  }

  /** `next` builds the new status from the current one by spreading, never by mutating it (it is frozen). */
  private write(next: (s: DaemonStatus) => DaemonStatus): void {
    this.current = deepFreeze(next(this.current));
  }
}
