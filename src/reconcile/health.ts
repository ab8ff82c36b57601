import { formatDuration } from '../manifest/duration.js';
import type { ContainerSpec } from '../manifest/types.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { ContainerWakeups } from './wakeups.js';

export interface ReadyOptions {
  /**
   * Without a healthcheck: how long a started container must keep running to
   * count as up (a crash on start shows within it). Short, since nothing
   * better is known; unused where a healthcheck exists.
   */
  graceMs: number;
  /** Overrides the timeout derived from the healthcheck. */
  timeoutMs?: number;
  /** How long a one-shot job may run before it is killed and counted failed (default 10 min). */
  jobTimeoutMs?: number;
  /**
   * Readiness follows the engine's events (start, die, health_status); this is
   * only how often it looks anyway, should an event be missed or the stream be
   * down.
   */
  pollMs: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => number;
}

/** How long a healthcheck may take to say healthy, from its own timings; 60 s for an image's own. */
export function healthTimeoutMs(spec: ContainerSpec): number {
  const hc = spec.healthcheck;
  if (!hc || hc.test === null) return 60_000;
  return hc.startPeriodMs + (hc.intervalMs + hc.timeoutMs) * (hc.retries + 1) + 5_000;
}

/**
 * Waits until a container is healthy (its healthcheck), or has kept running
 * for the grace period (no healthcheck). Looks (one inspect) when the engine
 * reports an event for it, at the end of the grace period, or every pollMs
 * at the latest. Resolves to undefined when ready, else to the reason it is not.
 * `startedAt` (options.now() when the start call returned) is where the grace
 * period begins; else it begins when the container is first seen running.
 */
export async function waitReady(runtime: ContainerRuntime, id: string, spec: ContainerSpec, options: ReadyOptions, wakeups?: ContainerWakeups, startedAt?: number): Promise<string | undefined> {
  const timeout = options.timeoutMs ?? healthTimeoutMs(spec);
  const deadline = options.now() + timeout;
  let runningSince: number | undefined;
  for (;;) {
    const d = await runtime.inspectContainer(id);
    if (!d) return 'the container disappeared';
    if (d.state === 'exited' || d.state === 'dead') return `exited with code ${d.exitCode ?? '?'}`;
    if (d.restartCount > 0 || d.state === 'restarting') return `restarted ${Math.max(1, d.restartCount)} time(s) (last exit code ${d.exitCode ?? '?'})`;
    if (d.health === 'unhealthy') return 'its healthcheck failed (unhealthy)';
    if (d.health === 'healthy') return undefined;
    let wait = Math.min(options.pollMs, Math.max(0, deadline - options.now()));
    if (d.health === 'none' && d.state === 'running') {
      runningSince ??= startedAt ?? options.now();
      const left = options.graceMs - (options.now() - runningSince);
      if (left <= 0) return undefined;
      wait = Math.min(wait, left);
    }
    if (options.now() >= deadline) {
      return d.health === 'starting' ? `not healthy after ${formatDuration(timeout)} (health: starting)` : `not running after ${formatDuration(timeout)} (${d.state})`;
    }
    await (wakeups ? wakeups.next(id, wait) : options.sleep(wait));
  }
}
