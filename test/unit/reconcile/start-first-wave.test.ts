import { describe, expect, it } from 'vitest';
import { apply } from '../../../src/reconcile/apply.js';
import { environment, fakeWith, fastReady, planOn, silent, svc } from './support.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));
const hc = 'healthcheck: { test: ["CMD", "true"] }\n';

/** A fake whose start of one named container hangs until released. */
async function waveWithSlowStart(names: string[], slowName: string) {
  const runtime = fakeWith('busybox:1.35', 'busybox:1.36');
  const before = await environment(Object.fromEntries(names.map((n) => [`${n}.yaml`, svc(n, hc)])));
  await apply(await planOn(runtime, before), { runtime, environment: before, secrets: () => undefined, log: silent, ready: fastReady });
  runtime.writes.length = 0;
  const start = runtime.startContainer.bind(runtime);
  let release!: () => void;
  const slow = new Promise<void>((resolve) => (release = resolve));
  runtime.startContainer = async (id) => {
    if (runtime.containers.get(id)?.name === slowName) await slow;
    return start(id);
  };
  const after = await environment(Object.fromEntries(names.map((n) => [`${n}.yaml`, svc(n, hc, 'busybox:1.36')])));
  const applied = apply(await planOn(runtime, after), { runtime, environment: after, secrets: () => undefined, log: silent, ready: fastReady });
  for (let i = 0; i < 40; i++) await tick();
  return { runtime, release, applied };
}

describe('a wave of start-first replaces', () => {
  it('retires each old container once its own replacement is healthy, while another new one is still starting', async () => {
    const { runtime, release, applied } = await waveWithSlowStart(['a', 'b', 'c'], 'testing-c.next');
    // a and b are healthy: their old containers are gone and the new ones hold the final names; c's old one still serves
    expect(runtime.writes).toEqual(expect.arrayContaining(['stop testing-a', 'remove testing-a', 'rename testing-a.next testing-a', 'stop testing-b', 'remove testing-b', 'rename testing-b.next testing-b']));
    expect(runtime.writes).not.toContain('start testing-c.next');
    expect(runtime.writes.filter((w) => w.endsWith('testing-c'))).toEqual([]);
    expect(runtime.names()).toEqual(['testing-a busybox:1.36 running', 'testing-b busybox:1.36 running', 'testing-c busybox:1.35 running', 'testing-c.next busybox:1.36 created']);
    release();
    const result = await applied;
    expect(result.outcome).toBe('converged');
    expect(runtime.writes.indexOf('stop testing-c')).toBeGreaterThan(runtime.writes.indexOf('start testing-c.next'));
    expect(runtime.names()).toEqual(['testing-a busybox:1.36 running', 'testing-b busybox:1.36 running', 'testing-c busybox:1.36 running']);
  });

  it('keeps an old container serving while its replacement has not proved itself, whatever the others did', async () => {
    const { runtime, release, applied } = await waveWithSlowStart(['a', 'b'], 'testing-b.next');
    expect(runtime.names()).toContain('testing-b busybox:1.35 running');
    expect(runtime.writes).not.toContain('stop testing-b');
    release();
    expect((await applied).outcome).toBe('converged');
  });
});
