import { pino } from 'pino';
import { memoryRepo } from '../../../src/manifest/files.js';
import { loadRepo } from '../../../src/manifest/load.js';
import { formatProblem } from '../../../src/manifest/problem.js';
import type { LoadedEnvironment } from '../../../src/manifest/types.js';
import { apply } from '../../../src/reconcile/apply.js';
import type { ApplyOptions } from '../../../src/reconcile/apply-context.js';
import { observe } from '../../../src/reconcile/observe.js';
import { plan } from '../../../src/reconcile/plan.js';
import { FakeEdge } from '../../support/fake-edge.js';
import { FakeRuntime } from '../../support/fake-runtime.js';
import { validators } from '../manifest/support.js';

export const silent = pino({ level: 'silent' });

/** Loads an environment from inline YAML: { 'web.yaml': '...' } under environments/testing/. */
export async function environment(files: Record<string, string>, envExtra = ''): Promise<LoadedEnvironment> {
  const all: Record<string, string> = { 'environments/testing/environment.yaml': `apiVersion: stagecoach/v1\nkind: Environment\nname: testing\n${envExtra}` };
  for (const [name, text] of Object.entries(files)) all[`environments/testing/${name}`] = text;
  const result = await loadRepo(memoryRepo(all), validators);
  const loaded = result.environments[0]?.loaded;
  if (!loaded) throw new Error(result.problems.map(formatProblem).join('\n'));
  return loaded;
}

export const svc = (name: string, extra = '', image = 'busybox:1.35') => `apiVersion: stagecoach/v1\nkind: Service\nname: ${name}\nimage: ${image}\n${extra}`;

export function fakeWith(...images: string[]): FakeRuntime {
  const runtime = new FakeRuntime();
  for (const image of images) runtime.addImage(image);
  new FakeEdge(runtime); // fixed host ports are served by an edge proxy: a fake HAProxy answers its runtime API
  return runtime;
}

export async function planOn(runtime: FakeRuntime, env: LoadedEnvironment, revision = 'r1') {
  const actual = await observe(runtime, env.name, env.services.map((s) => s.spec.image));
  return plan(env, actual, revision);
}

let clock = 0;
export const fastReady = { graceMs: 0, pollMs: 1, sleep: async () => undefined, now: () => (clock += 1000), timeoutMs: 10_000 };

export async function converge(runtime: FakeRuntime, env: LoadedEnvironment, options: Partial<ApplyOptions> = {}) {
  const planned = await planOn(runtime, env);
  return apply(planned, { runtime, environment: env, secrets: () => 'hunter2', log: silent, ready: fastReady, ...options });
}
