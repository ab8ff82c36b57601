import type { Clock } from './clock.js';

/** Where a request for work came from. */
export const triggerKinds = ['start', 'poll', 'watch', 'webhook', 'sync-api', 'schedule', 'docker-event', 'retry', 'marker', 'image-update'] as const;
export type TriggerKind = (typeof triggerKinds)[number];

export interface Trigger {
  kind: TriggerKind;
  reason: string;
  /** Ask the remote whether the branch moved (default true). */
  remote?: boolean;
  /** Re-evaluate every environment, not only those whose tree changed. */
  full?: boolean;
  /** Environments to drift-check at their last good revision. */
  heal?: string[];
  /**
   * Environments due for the periodic drift check, the safety net between
   * events: the engine's event stream may vouch for them (src/reconcile/drift-watch.ts),
   * which saves the list call. One also in `heal` is checked in full.
   */
  periodic?: string[];
  /** Environments to verify (tests and a marker) as they run. */
  verify?: string[];
  /** Forget updates that failed before (a manual sync). */
  forgetFailures?: boolean;
}

/** Triggers coalesced into one cycle. */
export interface Work {
  reason: string;
  kinds: Set<TriggerKind>;
  remote: boolean;
  full: boolean;
  heal: Set<string>;
  periodic: Set<string>;
  verify: Set<string>;
  forgetFailures: boolean;
}

/** What a cycle tells the queue about the next one. */
export interface CycleOutcome {
  /** The config repo could not be reached: polls back off. */
  sourceDown: boolean;
  /** Environments whose update failed for a transient reason: retried with backoff. */
  retry: string[];
  /** Environments deployed without a transient failure (a pending retry of theirs is done). */
  done: string[];
}

export interface WorkQueueOptions {
  clock: Clock;
  intervalMs: number;
  /** A full drift check every this many polls. */
  healEveryPolls?: number;
  random?: () => number;
  /** First retry of a transient failure after this long; doubled per failure up to maxRetryMs. */
  retryBaseMs?: number;
  maxRetryMs?: number;
  run(work: Work, signal: AbortSignal): Promise<CycleOutcome>;
  /** A remote trigger arrived while a cycle runs: look whether a newer revision should supersede it. */
  onBusy?(): void;
  /** Every environment the daemon currently manages (for periodic drift checks). */
  managed(): string[];
  /** Told when a retry is scheduled, so status can say when. */
  onRetryScheduled?(environments: string[], inMs: number): void;
}

function emptyWork(reason: string): Work {
  return { reason, kinds: new Set(), remote: false, full: false, heal: new Set(), periodic: new Set(), verify: new Set(), forgetFailures: false };
}

/**
 * Serializes the daemon's work: triggers arriving during a cycle coalesce
 * into the next; a poll timer runs (slower while the source is down); a
 * transient failure is retried with exponential backoff; a newer revision can
 * abort the rollout in flight through its signal.
 */
export class WorkQueue {
  private pending: Work | null = null;
  private running: Promise<void> | null = null;
  private rollout: AbortController | null = null;
  private pollTimer: AbortController | null = null;
  private retryTimer: AbortController | null = null;
  private sourceFailures = 0;
  private retryFailures = 0;
  private readonly retrying = new Set<string>();
  private polls = 0;
  private stopped = false;
  private cycles = 0;

  constructor(private readonly options: WorkQueueOptions) {}

  get busy(): boolean {
    return this.running !== null;
  }

  /** The number of the cycle running (or last run): a look at the remote started during it supersedes only it. */
  get cycle(): number {
    return this.cycles;
  }

  /** Asks for a cycle; while one runs, requests coalesce into the next. */
  trigger(t: Trigger): void {
    if (this.stopped) return;
    const remote = t.remote ?? true;
    const work = this.pending ?? emptyWork(t.reason);
    work.kinds.add(t.kind);
    work.remote ||= remote;
    work.full ||= t.full ?? false;
    work.forgetFailures ||= t.forgetFailures ?? false;
    for (const env of t.heal ?? []) work.heal.add(env);
    for (const env of t.periodic ?? []) work.periodic.add(env);
    for (const env of t.verify ?? []) work.verify.add(env);
    this.pending = work;
    if (this.running) {
      if (remote) this.options.onBusy?.();
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = null;
    });
  }

  /**
   * Aborts the rollout in flight at its next safe point (a newer revision
   * supersedes it), when it is still the cycle the newer revision was looked
   * for during (a later one already took it), and makes sure a cycle follows
   * that looks at the remote again.
   */
  supersede(reason: string, cycle: number): void {
    if (!this.rollout || cycle !== this.cycles) return;
    this.rollout.abort(reason);
    this.pending ??= emptyWork(reason);
    this.pending.kinds.add('poll');
    this.pending.remote = true;
  }

  /** Resolves when no cycle runs and none is pending. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** The step in flight finishes, nothing half-applied remains, no new work starts. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pending = null;
    this.pollTimer?.abort();
    this.retryTimer?.abort();
    this.rollout?.abort('the daemon is stopping');
    await this.idle();
  }

  private async drain(): Promise<void> {
    while (this.pending && !this.stopped) {
      const work = this.pending;
      this.pending = null;
      // Polls keep coming during a long rollout, so a newer revision can supersede it.
      this.schedulePoll();
      this.rollout = new AbortController();
      this.cycles++;
      const outcome = await this.options.run(work, this.rollout.signal);
      this.rollout = null;
      this.sourceFailures = outcome.sourceDown ? this.sourceFailures + 1 : 0;
      this.settleRetries(outcome);
    }
    this.schedulePoll();
  }

  /** Base interval, doubled per consecutive source failure up to 8×, with ±10 % jitter. */
  pollDelay(): number {
    const base = this.options.intervalMs * Math.min(8, 2 ** this.sourceFailures);
    return base + base * 0.2 * ((this.options.random ?? Math.random)() - 0.5);
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    // With a reason: abort() without one builds a DOMException and its stack trace, on every poll.
    this.pollTimer?.abort('rescheduled');
    const timer = (this.pollTimer = new AbortController());
    void this.options.clock.sleep(this.pollDelay(), timer.signal).then(() => {
      if (timer.signal.aborted || this.stopped) return;
      this.polls++;
      const heal = this.polls % (this.options.healEveryPolls ?? 10) === 0;
      this.trigger({ kind: 'poll', reason: heal ? 'poll + periodic drift check' : 'poll', periodic: heal ? this.options.managed() : [] });
    });
  }

  private settleRetries(outcome: CycleOutcome): void {
    for (const env of outcome.done) this.retrying.delete(env);
    if (outcome.retry.length === 0) {
      if (this.retrying.size === 0) {
        this.retryFailures = 0;
        this.retryTimer?.abort();
      }
      return;
    }
    if (this.stopped) return;
    for (const env of outcome.retry) this.retrying.add(env);
    this.retryFailures++;
    const base = this.options.retryBaseMs ?? 1_000;
    const delay = Math.min(this.options.maxRetryMs ?? 60_000, base * 2 ** (this.retryFailures - 1));
    this.retryTimer?.abort();
    const timer = (this.retryTimer = new AbortController());
    const environments = [...this.retrying];
    this.options.onRetryScheduled?.(environments, delay);
    void this.options.clock.sleep(delay, timer.signal).then(() => {
      if (timer.signal.aborted || this.stopped) return;
      this.trigger({ kind: 'retry', reason: `retry after a transient failure (attempt ${this.retryFailures + 1})`, heal: environments, remote: false });
    });
  }
}
