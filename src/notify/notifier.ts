import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { NotificationContext, NotificationEvent } from './events.js';
import type { HttpPost, OutgoingRequest } from './http-port.js';
import type { NotifyMetrics } from './metrics.js';
import { sinkRequest, sinkWants } from './sinks.js';
import type { NotificationSettings, SinkSettings } from './sinks.js';

/** The few logger methods the notifier uses (pino fits). Details go in the object; never a URL or a secret. */
export interface NotifyLog {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** The real sleep: abortable, and never keeps the process alive by itself. */
export const realSleep: Sleep = (ms, signal) => delay(ms, undefined, { signal, ref: false });

export interface NotifierDeps {
  settings: NotificationSettings;
  context: NotificationContext;
  post: HttpPost;
  metrics: NotifyMetrics;
  log: NotifyLog;
  sleep?: Sleep;
  newId?: () => string;
}

interface Delivery {
  event: NotificationEvent;
  id: string;
}

/** A status a retry may fix: the receiver is down, overloaded or slow. Anything else 4xx is a refusal. */
const transientStatus = (status: number) => status >= 500 || status === 408 || status === 429;

/** Why a network failure happened, without the URL (a Slack URL carries its token). */
function failureCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ?? (error as Error).name ?? 'Error';
}

/** One sink's bounded queue and its single worker: deliveries to a sink keep their order. */
class SinkQueue {
  private readonly items: Delivery[] = [];
  private worker: Promise<void> | null = null;

  constructor(
    readonly sink: SinkSettings,
    private readonly deps: Required<NotifierDeps>,
    private readonly abort: AbortSignal,
  ) {}

  get busy(): Promise<void> | null {
    return this.worker;
  }

  push(delivery: Delivery): void {
    const { metrics, settings, log } = this.deps;
    if (this.items.length >= settings.queueSize) {
      const oldest = this.items.shift()!;
      metrics.dropped.inc({ sink: this.sink.name });
      log.warn({ sink: this.sink.name, event: oldest.event.kind, environment: oldest.event.environment, queueSize: settings.queueSize }, 'notification queue full: dropped the oldest');
    }
    this.items.push(delivery);
    metrics.queued.set({ sink: this.sink.name }, this.items.length);
    // The worker starts on a later turn of the event loop: the caller (a deploy) never runs delivery code.
    this.worker ??= new Promise((resolve) => setImmediate(resolve)).then(() => this.drain()).finally(() => {
      this.worker = null;
    });
  }

  /** At stop: whatever never went out is counted as dropped. */
  dropRemaining(): void {
    if (this.items.length > 0) this.deps.metrics.dropped.inc({ sink: this.sink.name }, this.items.length);
    this.items.length = 0;
    this.deps.metrics.queued.set({ sink: this.sink.name }, 0);
  }

  private async drain(): Promise<void> {
    while (this.items.length > 0 && !this.abort.aborted) {
      const delivery = this.items.shift()!;
      this.deps.metrics.queued.set({ sink: this.sink.name }, this.items.length);
      const request = sinkRequest(this.sink, delivery.event, this.deps.context, delivery.id);
      if (request) await this.deliver(request, delivery);
    }
  }

  private async deliver(request: OutgoingRequest, delivery: Delivery): Promise<void> {
    const { metrics, log, settings, post, sleep } = this.deps;
    const sink = this.sink.name;
    const about = { sink, event: delivery.event.kind, environment: delivery.event.environment, delivery: delivery.id };
    const { attempts, initialDelayMs, maxDelayMs } = settings.retry;
    for (let attempt = 1; ; attempt++) {
      let outcome: { status: number; retryAfterMs?: number } | { error: string };
      try {
        outcome = await post(request, this.abort);
      } catch (error) {
        if (this.abort.aborted) return this.dropOnStop(about);
        outcome = { error: failureCode(error) };
      }
      if ('status' in outcome && outcome.status >= 200 && outcome.status < 300) {
        metrics.delivered.inc({ sink });
        log.debug({ ...about, attempt, status: outcome.status }, 'notification delivered');
        return;
      }
      const why = 'status' in outcome ? { status: outcome.status } : { error: outcome.error };
      if (('status' in outcome && !transientStatus(outcome.status)) || attempt >= attempts) {
        metrics.failed.inc({ sink });
        log.warn({ ...about, attempt, ...why }, 'notification not delivered');
        return;
      }
      const backoff = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
      const wait = Math.min(maxDelayMs, Math.max(backoff, 'status' in outcome ? (outcome.retryAfterMs ?? 0) : 0));
      metrics.retries.inc({ sink });
      log.debug({ ...about, attempt, ...why, retryInMs: wait }, 'notification failed; retrying');
      try {
        await sleep(wait, this.abort);
      } catch {
        return this.dropOnStop(about);
      }
    }
  }

  private dropOnStop(about: Record<string, string>): void {
    this.deps.metrics.dropped.inc({ sink: this.sink.name });
    this.deps.log.warn(about, 'notification dropped: the daemon is stopping');
  }
}

/**
 * Delivers pipeline events to the operator's sinks. `notify` returns at once
 * and never throws: a notification never fails or delays a deploy. Each sink
 * has its own bounded queue (oldest dropped when full), retries transient
 * failures with exponential backoff, and counts what it delivered, gave up
 * on and dropped.
 */
export class Notifier {
  private readonly queues: SinkQueue[];
  private readonly abort = new AbortController();
  private readonly deps: Required<NotifierDeps>;
  private stopping = false;

  constructor(deps: NotifierDeps) {
    this.deps = { sleep: realSleep, newId: randomUUID, ...deps };
    this.queues = deps.settings.sinks.map((sink) => new SinkQueue(sink, this.deps, this.abort.signal));
  }

  notify(event: NotificationEvent): void {
    if (this.stopping) return;
    try {
      const id = this.deps.newId();
      for (const queue of this.queues) if (sinkWants(queue.sink, event)) queue.push({ event, id });
    } catch (error) {
      this.deps.log.warn({ event: event.kind, err: (error as Error).message }, 'notification could not be queued');
    }
  }

  /** Resolves once every queue is empty (tests; a graceful stop). */
  async idle(): Promise<void> {
    for (;;) {
      const busy = this.queues.map((q) => q.busy).filter((b): b is Promise<void> => b !== null);
      if (busy.length === 0) return;
      await Promise.all(busy);
    }
  }

  /** Takes no new events; gives queued ones up to `graceMs` to go out, then drops (and counts) the rest. */
  async stop(graceMs = 2_000): Promise<void> {
    this.stopping = true;
    const timer = new AbortController();
    await Promise.race([this.idle(), this.deps.sleep(graceMs, timer.signal).catch(() => undefined)]);
    timer.abort();
    this.abort.abort();
    await this.idle();
    for (const queue of this.queues) queue.dropRemaining();
  }
}
