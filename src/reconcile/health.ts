import { formatDuration } from '../manifest/duration.js';
import type { ContainerSpec } from '../manifest/types.js';
import type { ContainerRuntime } from '../runtime/types.js';

export interface ReadyOptions {
  /** Without a healthcheck: how long the container must keep running. */
  graceMs: number;
  /** Overrides the timeout derived from the healthcheck. */
  timeoutMs?: number;
  /** How long a one-shot job may run before it is killed and counted failed (default 10 min). */
  jobTimeoutMs?: number;
  pollMs: number;
  sleep: (ms: number) => Promise<void>;
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
 * for the grace period (no healthcheck). Resolves to undefined when ready,
 * else to the reason it is not.
 */
export async function waitReady(runtime: ContainerRuntime, id: string, spec: ContainerSpec, options: ReadyOptions): Promise<string | undefined> {
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
    if (d.health === 'none' && d.state === 'running') {
      runningSince ??= options.now();
      if (options.now() - runningSince >= options.graceMs) return undefined;
    }
    if (options.now() >= deadline) {
      return d.health === 'starting' ? `not healthy after ${formatDuration(timeout)} (health: starting)` : `not running after ${formatDuration(timeout)} (${d.state})`;
    }
    await options.sleep(options.pollMs);
  }
}
