import { describe, expect, it } from 'vitest';
import { waitReady } from '../../../src/reconcile/health.js';
import type { ReadyOptions } from '../../../src/reconcile/health.js';
import { ContainerWakeups } from '../../../src/reconcile/wakeups.js';
import { buildCreate } from '../../../src/reconcile/container-spec.js';
import { environment, fakeWith, svc } from './support.js';

/** A clock that moves only when someone sleeps, and sleeps that end only when told (or aborted). */
function manualTime() {
  let now = 0;
  const sleeps: { ms: number; done: () => void }[] = [];
  const options: ReadyOptions = {
    graceMs: 1_000,
    pollMs: 60_000,
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        const entry = { ms, done: resolve };
        sleeps.push(entry);
        signal?.addEventListener('abort', () => resolve());
      }),
  };
  return { options, sleeps, advance: (ms: number) => (now += ms) };
}

async function started(extra: string) {
  const runtime = fakeWith('busybox:1.35');
  const env = await environment({ 'web.yaml': svc('web', extra) });
  const id = await runtime.createContainer(buildCreate(env, env.services[0]!, 1, 'current', 'r1', () => undefined));
  await runtime.startContainer(id);
  return { runtime, id, spec: env.services[0]!.spec };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('readiness from engine events', () => {
  it('a health_status event ends the wait at once, with no poll in between', async () => {
    const { runtime, id, spec } = await started('healthcheck:\n  test: ["CMD", "true"]\n  interval: 1s\n');
    Object.assign(runtime.containers.get(id)!, { health: 'starting' });
    const time = manualTime();
    const wakeups = new ContainerWakeups(runtime, {}, time.options.sleep);
    let result: string | undefined | 'pending' = 'pending';
    void waitReady(runtime, id, spec, time.options, wakeups).then((r) => (result = r));
    await tick();
    expect(result).toBe('pending');
    expect(time.sleeps.map((s) => s.ms)).toEqual([60_000]); // waiting on the event, the poll only as a safety net
    Object.assign(runtime.containers.get(id)!, { health: 'healthy' });
    runtime.emit(id, 'health_status: healthy');
    await tick();
    await tick();
    expect(result).toBeUndefined();
    wakeups.close();
  });

  it('a die event reports the exit at once', async () => {
    const { runtime, id, spec } = await started('');
    const time = manualTime();
    const wakeups = new ContainerWakeups(runtime, {}, time.options.sleep);
    let result: string | undefined | 'pending' = 'pending';
    void waitReady(runtime, id, spec, time.options, wakeups).then((r) => (result = r));
    await tick();
    expect(time.sleeps.map((s) => s.ms)).toEqual([1_000]); // no healthcheck: the grace period
    Object.assign(runtime.containers.get(id)!, { state: 'exited', exitCode: 2 });
    runtime.emit(id, 'die');
    await tick();
    await tick();
    expect(result).toBe('exited with code 2');
    wakeups.close();
  });

  it('without a healthcheck, a restart by the engine inside the grace period is a failure, seen at its event', async () => {
    const { runtime, id, spec } = await started('');
    const time = manualTime();
    const wakeups = new ContainerWakeups(runtime, {}, time.options.sleep);
    let result: string | undefined | 'pending' = 'pending';
    void waitReady(runtime, id, spec, time.options, wakeups).then((r) => (result = r));
    await tick();
    time.advance(300);
    Object.assign(runtime.containers.get(id)!, { state: 'running', restartCount: 1, exitCode: 4 });
    runtime.emit(id, 'restart');
    await tick();
    await tick();
    expect(result).toBe('restarted 1 time(s) (last exit code 4)');
    wakeups.close();
  });

  it('the grace period counts from when the start call returned, not from the first look', async () => {
    const { runtime, id, spec } = await started('');
    const time = manualTime();
    const startedAt = 0;
    time.advance(400); // the start call returned at 0; the first inspect answers at 400
    let result: string | undefined | 'pending' = 'pending';
    void waitReady(runtime, id, spec, time.options, undefined, startedAt).then((r) => (result = r));
    await tick();
    expect(time.sleeps.map((s) => s.ms)).toEqual([600]);
    time.advance(600);
    time.sleeps.shift()!.done();
    await tick();
    await tick();
    expect(result).toBeUndefined();
  });

  it.each([
    ['no healthcheck: up after the grace period', '', 1_000],
    ['a healthcheck: no grace at all once healthy', 'healthcheck:\n  test: ["CMD", "true"]\n', 0],
  ])('%s', async (_name, extra, sleptMs) => {
    const { runtime, id, spec } = await started(extra);
    const time = manualTime();
    let result: string | undefined | 'pending' = 'pending';
    void waitReady(runtime, id, spec, time.options).then((r) => (result = r));
    await tick();
    let slept = 0;
    while (result === 'pending' && time.sleeps.length > 0) {
      const s = time.sleeps.shift()!;
      slept += s.ms;
      time.advance(s.ms);
      s.done();
      await tick();
      await tick();
    }
    expect(result).toBeUndefined();
    expect(slept).toBe(sleptMs);
  });

  it('events of other containers do not wake a waiter', async () => {
    const { runtime, id } = await started('');
    const time = manualTime();
    const wakeups = new ContainerWakeups(runtime, {}, time.options.sleep);
    let woken = false;
    void wakeups.next(id, 60_000).then(() => (woken = true));
    runtime.emit('c99999999999', 'die');
    await tick();
    expect(woken).toBe(false);
    runtime.emit(id, 'start');
    await tick();
    expect(woken).toBe(true);
    wakeups.close();
  });
});
