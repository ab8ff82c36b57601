import type { ContainerRuntime } from '../runtime/types.js';

/** The engine events that can change whether a container is ready. */
export const readinessEvents = ['start', 'die', 'health_status', 'restart', 'destroy', 'oom', 'pause'] as const;

/**
 * Wakes waiters when the engine reports an event for their container, so
 * readiness is seen as it happens instead of at the next poll. One event
 * stream per apply; if it cannot be opened or ends, waiters simply fall back
 * to their timeout (the poll interval).
 */
export class ContainerWakeups {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly handle: { close(): void };
  /** Resolves once the stream is open (or has failed): events from then on are seen. */
  readonly opened: Promise<void>;

  constructor(
    runtime: ContainerRuntime,
    labels: Record<string, string>,
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
  ) {
    let open!: () => void;
    this.opened = new Promise((resolve) => (open = resolve));
    this.handle = runtime.watchEvents(
      labels,
      (event) => {
        const id = event.id;
        if (!id) return;
        for (const [key, set] of this.waiters) if (id.startsWith(key) || key.startsWith(id)) for (const wake of set) wake();
      },
      () => open(),
      { actions: [...readinessEvents], onOpen: () => open() },
    );
  }

  /** Resolves at the next event for this container, or after ms. */
  async next(id: string, ms: number): Promise<void> {
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
  }

  close(): void {
    this.handle.close();
  }
}
