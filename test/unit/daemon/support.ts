import { afterEach } from 'vitest';
import { pino } from 'pino';
import { ContainerDeploy } from '../../../src/daemon/container-deploy.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import type { DaemonDeps } from '../../../src/daemon/daemon.js';
import type { DeployStep } from '../../../src/daemon/deploy-step.js';
import { createMetrics } from '../../../src/daemon/metrics.js';
import type { EnvironmentStatus } from '../../../src/daemon/status.js';
import { FakeClock, settle } from '../../support/fake-clock.js';
import { FakeGit } from '../../support/fake-git.js';
import { FakeRuntime } from '../../support/fake-runtime.js';
import { envYaml, serviceYaml, validators } from '../manifest/support.js';

export const silent = pino({ level: 'silent' });
export const intervalMs = 30_000;

/** environments/<env>/ with an Environment and one service `web` running `image`. */
export function envFiles(env: string, image: string, envExtra = ''): Record<string, string> {
  return { [`environments/${env}/environment.yaml`]: envYaml(env, envExtra), [`environments/${env}/web.yaml`]: serviceYaml('web', '', image) };
}

export const fastReady = { graceMs: 0, pollMs: 1, sleep: async () => undefined, timeoutMs: 10_000 };

/** Fires cron schedules by hand. */
export class FakeSchedules {
  fire: (env: string, kind: 'sync' | 'verify') => void = () => undefined;
  environments: string[] = [];
  update(envs: readonly { name: string }[]): void {
    this.environments = envs.map((e) => e.name);
  }
  async stop(): Promise<void> {}
}

/**
 * A daemon over a FakeGit remote, a FakeRuntime engine and a FakeClock,
 * started and settled; `counts()` reads what it did from its own metrics.
 */
export async function harness(files: Record<string, string>, options: { images?: string[]; only?: string[]; deployFor?: DaemonDeps['deployFor']; start?: boolean; policy?: DaemonDeps['policy']; trust?: DaemonDeps['trust']; markerFacts?: DaemonDeps['markerFacts']; afterChanges?: DaemonDeps['afterChanges'] } = {}) {
  const git = new FakeGit(files);
  const runtime = new FakeRuntime();
  for (const image of options.images ?? ['app:1', 'app:2', 'app:3']) runtime.addImage(image);
  const clock = new FakeClock();
  const metrics = createMetrics();
  const schedules = new FakeSchedules();
  let ticks = 0;
  let cycles = 0;
  const ready = { ...fastReady, now: () => (ticks += 1000) };
  const container = new ContainerDeploy({ runtime, secrets: () => 'hunter2', log: silent, metrics, clock, ready });
  const deployFor = options.deployFor ?? ((): DeployStep => container);
  const daemon = new Daemon({
    git,
    branch: 'main',
    only: options.only,
    intervalMs,
    validators,
    deployFor,
    runtimeFor: () => runtime,
    secrets: () => 'hunter2',
    log: silent,
    metrics,
    clock,
    random: () => 0.5,
    schedules: (fire) => Object.assign(schedules, { fire }),
    onCycle: () => void cycles++,
    policy: options.policy,
    trust: options.trust,
    markerFacts: options.markerFacts,
    afterChanges: options.afterChanges,
  });
  const sum = async (name: string, env?: string) => {
    const metric = (await metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
    return metric.filter((v) => !env || v.labels.environment === env).reduce((n, v) => n + v.value, 0);
  };
  const h = {
    git,
    runtime,
    clock,
    metrics,
    schedules,
    daemon,
    /** Cycles run so far. */
    cycles: () => cycles,
    env: (name: string): EnvironmentStatus => {
      const st = daemon.store.environment(name);
      if (!st) throw new Error(`no status for ${name}`);
      return st;
    },
    /** Loads, observations and applies so far, for one environment or all. */
    counts: async (env?: string) => ({
      loads: await sum('stagecoach_environment_loads_total', env),
      observes: await sum('stagecoach_environment_observes_total', env),
      applies: await sum('stagecoach_environment_applies_total', env),
    }),
    /** Lets triggered work finish. */
    settle: async () => {
      await settle();
      await daemon.idle();
      await settle();
      await daemon.idle();
    },
    /** Moves the clock to the next poll and lets it run. */
    poll: async () => {
      await clock.advance(intervalMs * 1.01);
      await h.settle();
    },
  };
  if (options.start !== false) {
    daemon.start();
    await h.settle();
  }
  return h;
}

/** Two environments, alpha and beta, each one service on app:1. */
export const twoEnvironments = { ...envFiles('alpha', 'app:1'), ...envFiles('beta', 'app:1') };

/**
 * Call at the top of a test file: started() builds a harness whose daemon is
 * stopped after the test; stopWith() replaces what runs then (a held rollout
 * to release first, say).
 */
export function harnessPerTest(): { started: typeof harness; stopWith(fn: () => Promise<void>): void } {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });
  return {
    started: async (files, options = {}) => {
      const h = await harness(files, options);
      stop = () => h.daemon.stop();
      return h;
    },
    stopWith: (fn) => void (stop = fn),
  };
}
