import { formatDuration } from '../manifest/duration.js';
import type { ContainerSpec } from '../manifest/types.js';
import type { ContainerDetails, ContainerRuntime } from '../runtime/types.js';
import type { ContainerWakeups, EventCursor } from './wakeups.js';

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
 * What the engine said (or, before any look, what a start that returned
 * implies): `confirmed` once it comes from an inspect.
 */
interface Look {
  state: ContainerDetails['state'];
  health: ContainerDetails['health'];
  confirmed: boolean;
}

/** Events after which only a look (inspect) can tell what happened. */
const lookAfter = new Set(['die', 'restart', 'destroy', 'oom', 'pause', 'health_status: unhealthy']);

/** Why a looked-at container is not (and will not be) ready; undefined when it may still be. */
function failureOf(d: ContainerDetails): string | undefined {
  if (d.state === 'exited' || d.state === 'dead') return `exited with code ${d.exitCode ?? '?'}`;
  if (d.restartCount > 0 || d.state === 'restarting') return `restarted ${Math.max(1, d.restartCount)} time(s) (last exit code ${d.exitCode ?? '?'})`;
  if (d.health === 'unhealthy') return 'its healthcheck failed (unhealthy)';
  return undefined;
}

/**
 * Waits until a container is healthy (its healthcheck), or has kept running
 * for the grace period (no healthcheck). Resolves to undefined when ready,
 * else to the reason it is not.
 *
 * With the engine's event stream open (`wakeups.live`) and the start call
 * returned (`startedAt`, options.now() then), the events tell: a
 * `health_status: healthy` is ready; a `die`, `restart`, `oom`, `destroy` or
 * unhealthy status is looked at (one inspect) for the reason. Without a
 * declared healthcheck one inspect at the end of the grace period confirms
 * it still runs unrestarted (or finds the image's own healthcheck, which is
 * then waited for). Without events it inspects at the start, at the end of
 * the grace period, and every pollMs. `since` is the container's event
 * cursor taken before its start call, so nothing that came before the wait
 * began is missed. The grace period begins at `startedAt`, else when the
 * container is first seen running.
 */
export async function waitReady(
  runtime: ContainerRuntime,
  id: string,
  spec: ContainerSpec,
  options: ReadyOptions,
  wakeups?: ContainerWakeups,
  startedAt?: number,
  since?: EventCursor,
): Promise<string | undefined> {
  const timeout = options.timeoutMs ?? healthTimeoutMs(spec);
  const deadline = options.now() + timeout;
  const declared = spec.healthcheck?.test ? (spec.healthcheck.test[0] === 'NONE' ? 'none' : 'check') : 'image';
  let cursor = since ?? wakeups?.cursor(id) ?? 0;
  // A start that returned means running; what can change that arrives as an event.
  let look: Look | undefined = wakeups?.live && startedAt !== undefined ? { state: 'running', health: declared === 'check' ? 'starting' : 'none', confirmed: false } : undefined;
  let runningSince = look ? startedAt : undefined;
  for (;;) {
    if (!look) {
      if (wakeups) cursor = wakeups.cursor(id); // this look answers every event before it
      const d = await runtime.inspectContainer(id);
      if (!d) return 'the container disappeared';
      const failure = failureOf(d);
      if (failure) return failure;
      if (d.health === 'healthy') return undefined;
      look = { state: d.state, health: d.health, confirmed: true };
    }
    let wait = Math.min(options.pollMs, Math.max(0, deadline - options.now()));
    if (look.health === 'none' && look.state === 'running') {
      runningSince ??= startedAt ?? options.now();
      const left = options.graceMs - (options.now() - runningSince);
      if (left <= 0) {
        if (look.confirmed) return undefined;
        look = undefined; // one look confirms it still runs, unrestarted, and has no healthcheck of its image's
        continue;
      }
      wait = Math.min(wait, left);
    }
    if (options.now() >= deadline) {
      if (!look.confirmed) {
        look = undefined;
        continue;
      }
      return look.health === 'starting' ? `not healthy after ${formatDuration(timeout)} (health: starting)` : `not running after ${formatDuration(timeout)} (${look.state})`;
    }
    if (!wakeups) {
      await options.sleep(wait);
      look = undefined;
      continue;
    }
    const events = await wakeups.next(id, wait, cursor);
    cursor += events.length;
    const actions = events.map((e) => e.action);
    if (actions.some((a) => lookAfter.has(a))) look = undefined;
    else if (actions.includes('health_status: healthy')) return undefined;
    else if (actions.length === 0) look = undefined; // the poll, the end of the grace period or the deadline, or the stream ended: look
    // else only `start`: the start this wait follows (a restart comes after a die, which is looked at)
  }
}
