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

describe('readiness from events, with few looks', () => {
  /** A started container whose inspects are counted, its event stream open, and its event cursor taken before the start. */
  async function watched(extra: string) {
    const runtime = fakeWith('busybox:1.35');
    const env = await environment({ 'web.yaml': svc('web', extra) });
    const id = await runtime.createContainer(buildCreate(env, env.services[0]!, 1, 'current', 'r1', () => undefined));
    const time = manualTime();
    const wakeups = new ContainerWakeups(runtime, {}, time.options.sleep);
    const since = wakeups.cursor(id);
    await runtime.startContainer(id);
    let inspects = 0;
    const inspect = runtime.inspectContainer.bind(runtime);
    runtime.inspectContainer = (x) => {
      inspects += 1;
      return inspect(x);
    };
    let result: string | undefined | 'pending' = 'pending';
    const wait = () => void waitReady(runtime, id, env.services[0]!.spec, time.options, wakeups, 0, since).then((r) => (result = r));
    return { runtime, id, time, wakeups, wait, result: () => result, inspects: () => inspects };
  }

  const healthcheck = 'healthcheck:\n  test: ["CMD", "true"]\n  interval: 1s\n';

  it('a declared healthcheck: the healthy event alone ends the wait, with no inspect at all', async () => {
    const w = await watched(healthcheck);
    Object.assign(w.runtime.containers.get(w.id)!, { health: 'starting' });
    w.wait();
    await tick();
    w.runtime.emit(w.id, 'start');
    await tick();
    expect(w.result()).toBe('pending');
    w.runtime.emit(w.id, 'health_status: healthy');
    await tick();
    await tick();
    expect([w.result(), w.inspects()]).toEqual([undefined, 0]);
    w.wakeups.close();
  });

  it('an exit between the start call and the wait is not missed: it is looked at and reported', async () => {
    const w = await watched(healthcheck);
    Object.assign(w.runtime.containers.get(w.id)!, { state: 'exited', exitCode: 3, health: 'starting' });
    w.runtime.emit(w.id, 'die'); // before waitReady runs
    w.wait();
    await tick();
    await tick();
    expect([w.result(), w.inspects()]).toEqual(['exited with code 3', 1]);
    w.wakeups.close();
  });

  it('healthy after a restart is not ready: the die before it is looked at', async () => {
    const w = await watched(healthcheck);
    w.wait();
    await tick();
    Object.assign(w.runtime.containers.get(w.id)!, { restartCount: 1, exitCode: 1, health: 'healthy' });
    w.runtime.emit(w.id, 'die');
    w.runtime.emit(w.id, 'start');
    w.runtime.emit(w.id, 'health_status: healthy');
    await tick();
    await tick();
    expect(w.result()).toBe('restarted 1 time(s) (last exit code 1)');
    w.wakeups.close();
  });

  it('no healthcheck: one inspect, at the end of the grace period', async () => {
    const w = await watched('');
    w.wait();
    await tick();
    w.runtime.emit(w.id, 'start'); // the start it follows: nothing to look at
    await tick();
    expect(w.time.sleeps.at(-1)!.ms).toBe(1_000); // the wait the start event woke is aborted; the next still ends with the grace period
    w.time.advance(1_000);
    w.time.sleeps.at(-1)!.done();
    await tick();
    await tick();
    expect([w.result(), w.inspects()]).toEqual([undefined, 1]);
    w.wakeups.close();
  });

  it("no healthcheck declared, but the image has one: the look at the grace period's end finds it and waits for it", async () => {
    const w = await watched('');
    Object.assign(w.runtime.containers.get(w.id)!, { health: 'starting' });
    w.wait();
    await tick();
    w.time.advance(1_000);
    w.time.sleeps.shift()!.done();
    await tick();
    await tick();
    expect(w.result()).toBe('pending');
    Object.assign(w.runtime.containers.get(w.id)!, { health: 'healthy' });
    w.runtime.emit(w.id, 'health_status: healthy');
    await tick();
    await tick();
    expect([w.result(), w.inspects()]).toEqual([undefined, 1]);
    w.wakeups.close();
  });

  it('when the event stream ends, the wait looks instead of counting on events', async () => {
    const runtime = fakeWith('busybox:1.35');
    let end!: () => void;
    const watch = runtime.watchEvents.bind(runtime);
    runtime.watchEvents = (labels, onEvent, onEnd, options) => {
      end = () => onEnd(new Error('stream closed'));
      return watch(labels, onEvent, onEnd, options);
    };
    const env = await environment({ 'web.yaml': svc('web', healthcheck) });
    const id = await runtime.createContainer(buildCreate(env, env.services[0]!, 1, 'current', 'r1', () => undefined));
    await runtime.startContainer(id);
    Object.assign(runtime.containers.get(id)!, { health: 'starting' });
    const time = manualTime();
    const wakeups = new ContainerWakeups(runtime, {}, time.options.sleep);
    expect(wakeups.live).toBe(true);
    let result: string | undefined | 'pending' = 'pending';
    void waitReady(runtime, id, env.services[0]!.spec, time.options, wakeups, 0).then((r) => (result = r));
    await tick();
    Object.assign(runtime.containers.get(id)!, { health: 'healthy' }); // its event is lost with the stream
    end();
    await tick();
    await tick();
    expect([wakeups.live, result]).toEqual([false, undefined]);
    wakeups.close();
  });
});
