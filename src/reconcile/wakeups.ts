import type { ContainerEvent, ContainerRuntime } from '../runtime/types.js';

/** The engine events that can change whether a container is ready. */
export const readinessEvents = ['start', 'die', 'health_status', 'restart', 'destroy', 'oom', 'pause'] as const;

/** Where a waiter stands in one container's events: how many it has already seen. */
export type EventCursor = number;

/**
 * Wakes waiters when the engine reports an event for their container, so
 * readiness is seen as it happens instead of at the next poll. One event
 * stream per apply. Every event of a container is kept (an apply's few), so
 * a waiter that was busy (inspecting) when one came still gets it. While the
 * stream is not open (it failed or ended), `live` is false and waiters fall
 * back to their timeout (the poll interval).
 */
export class ContainerWakeups {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly seen = new Map<string, ContainerEvent[]>();
  private readonly handle: { close(): void };
  private open = false;
  /** Resolves once the stream is open (or has failed): events from then on are seen. */
  readonly opened: Promise<void>;

  constructor(
    runtime: ContainerRuntime,
    labels: Record<string, string>,
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
  ) {
    let opened!: () => void;
    this.opened = new Promise((resolve) => (opened = resolve));
    this.handle = runtime.watchEvents(
      labels,
      (event) => {
        const id = event.id;
        if (!id) return;
        this.seen.set(id, [...(this.seen.get(id) ?? []), event]);
        this.wake(id);
      },
      () => {
        this.open = false;
        opened();
        this.wake(); // nobody may count on an event any more: everyone looks now
      },
      {
        actions: [...readinessEvents],
        onOpen: () => {
          this.open = true;
          opened();
        },
      },
    );
  }

  /** True while the stream is open: then a container's die, restart or health change is certain to arrive as an event. */
  get live(): boolean {
    return this.open;
  }

  private matches(a: string, b: string): boolean {
    return a.startsWith(b) || b.startsWith(a);
  }

  private wake(id?: string): void {
    for (const [key, set] of this.waiters) if (id === undefined || this.matches(id, key)) for (const wake of set) wake();
  }

  private eventsOf(id: string): ContainerEvent[] {
    for (const [key, events] of this.seen) if (this.matches(key, id)) return events;
    return [];
  }

  /** Where this container's events stand now: take it before a look (inspect), so what comes during the look is not lost. */
  cursor(id: string): EventCursor {
    return this.eventsOf(id).length;
  }

  /**
   * The container's events after `since`: at once when some came already,
   * else at the next one, or none after ms (or when the stream ends).
   */
  async next(id: string, ms: number, since: EventCursor = this.cursor(id)): Promise<ContainerEvent[]> {
    const pending = () => this.eventsOf(id).slice(since);
    if (pending().length > 0) return pending();
    const stop = new AbortController();
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const set = this.waiters.get(id) ?? new Set();
    set.add(wake);
    this.waiters.set(id, set);
    try {
      await Promise.race([woken, this.sleep(ms, stop.signal)]);
    } finally {
      stop.abort();
      set.delete(wake);
      if (set.size === 0) this.waiters.delete(id);
    }
    return pending();
  }

  close(): void {
    this.open = false;
    this.handle.close();
  }
}
