import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { converge, environment, fakeWith, svc } from './support.js';

const names = ['a', 'b', 'c', 'd', 'e', 'f'];

/** Creates six independent services (one dependency step) and returns how many were starting at once, at most. */
async function mostAtOnce(envExtra: string): Promise<number> {
  const runtime = fakeWith('busybox:1.35');
  const start = runtime.startContainer.bind(runtime);
  let inFlight = 0;
  let most = 0;
  runtime.startContainer = async (id) => {
    most = Math.max(most, ++inFlight);
    await delay(5);
    inFlight--;
    return start(id);
  };
  const env = await environment(Object.fromEntries(names.map((n) => [`${n}.yaml`, svc(n)])), envExtra);
  const result = await converge(runtime, env);
  expect(result.outcome).toBe('converged');
  expect(runtime.names()).toHaveLength(names.length);
  return most;
}

describe("a step's services roll out together, up to the environment's sync.parallelism", () => {
  it('by default all six at once (the default is 20)', async () => {
    expect(await mostAtOnce('')).toBe(6);
  });

  it.each([1, 2, 4])('sync.parallelism %i', async (n) => {
    expect(await mostAtOnce(`sync: { parallelism: ${n} }\n`)).toBe(n);
  });
});
