import { describe, expect, it } from 'vitest';
import { apply } from '../../../src/reconcile/apply.js';
import { BringUps } from '../../../src/reconcile/bring-ups.js';
import { environment, fakeWith, fastReady, planOn, silent, svc } from './support.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('BringUps', () => {
  it('settled() waits for the bring-ups in flight, not for ones that begin later', async () => {
    const ups = new BringUps();
    await ups.settled(); // none in flight: at once
    const a = ups.begin();
    const b = ups.begin();
    let settled = false;
    void ups.settled().then(() => (settled = true));
    a();
    a(); // twice is once
    await tick();
    expect(settled).toBe(false);
    const later = ups.begin();
    b();
    await tick();
    expect(settled).toBe(false); // a later one is in flight: it still gives way (never a deadlock: it ends when its start returns)
    later();
    await tick();
    expect(settled).toBe(true);
  });
});

describe('a wave of start-first replaces', () => {
  it('retires no old container while a new one is still being created or started', async () => {
    const runtime = fakeWith('busybox:1.35', 'busybox:1.36');
    const hc = 'healthcheck: { test: ["CMD", "true"] }\n';
    const names = ['a', 'b', 'c'];
    const before = await environment(Object.fromEntries(names.map((n) => [`${n}.yaml`, svc(n, hc)])));
    await apply(await planOn(runtime, before), { runtime, environment: before, secrets: () => undefined, log: silent, ready: fastReady });
    runtime.writes.length = 0;
    // c's start is slow: a and b are healthy long before it returns
    const start = runtime.startContainer.bind(runtime);
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    runtime.startContainer = async (id) => {
      if (runtime.containers.get(id)?.name === 'testing-c.next') await slow;
      return start(id);
    };
    const after = await environment(Object.fromEntries(names.map((n) => [`${n}.yaml`, svc(n, hc, 'busybox:1.36')])));
    const applied = apply(await planOn(runtime, after), { runtime, environment: after, secrets: () => undefined, log: silent, ready: fastReady });
    for (let i = 0; i < 20; i++) await tick();
    expect(runtime.writes.filter((w) => w.startsWith('stop'))).toEqual([]);
    release();
    const result = await applied;
    expect(result.outcome).toBe('converged');
    const firstStop = runtime.writes.findIndex((w) => w.startsWith('stop'));
    expect(runtime.writes.indexOf('start testing-c.next')).toBeLessThan(firstStop);
    expect(runtime.names()).toEqual(['testing-a busybox:1.36 running', 'testing-b busybox:1.36 running', 'testing-c busybox:1.36 running']);
  });
});
