import { describe, expect, it } from 'vitest';
import { InspectCache } from '../../../src/reconcile/inspect-cache.js';
import { observe } from '../../../src/reconcile/observe.js';
import { plan } from '../../../src/reconcile/plan.js';
import { countingRuntime } from '../../support/counting-runtime.js';
import { converge, environment, fakeWith, svc } from './support.js';

const summary = (p: ReturnType<typeof plan>) => p.actions.filter((a) => a.kind !== 'noop').map((a) => `${a.kind} ${a.service}: ${a.reasons.join('; ')}`);

async function fiveServices() {
  const runtime = fakeWith('busybox:1.35');
  const env = await environment(Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((n) => [`${n}.yaml`, svc(n)])));
  await converge(runtime, env);
  const counted = countingRuntime(runtime);
  const cache = new InspectCache();
  const check = async () => {
    counted.reset();
    const actual = await observe(counted.runtime, env.name, env.services.map((s) => s.spec.image), { cache });
    return { planned: plan(env, actual, 'r1'), calls: Object.fromEntries(counted.calls) };
  };
  return { runtime, env, cache, check };
}

describe('a drift check costs what changed', () => {
  it('a warm check with nothing changed is one list call', async () => {
    const { check } = await fiveServices();
    const first = await check();
    expect(first.calls).toEqual({ listContainers: 1, inspectContainer: 5, apiVersion: 1 });
    const second = await check();
    expect(second.calls).toEqual({ listContainers: 1 });
    expect(summary(second.planned)).toEqual([]);
  });

  it('without a cache every container is inspected (the old cost)', async () => {
    const runtime = fakeWith('busybox:1.35');
    const env = await environment({ 'a.yaml': svc('a'), 'b.yaml': svc('b') });
    await converge(runtime, env);
    const counted = countingRuntime(runtime);
    await observe(counted.runtime, env.name, ['busybox:1.35']);
    expect(Object.fromEntries(counted.calls)).toEqual({ listContainers: 1, inspectContainer: 2, apiVersion: 1 });
  });

  it('a container stopped by hand: the list shows it, only it is inspected, and it is restarted', async () => {
    const { runtime, check } = await fiveServices();
    await check();
    Object.assign(runtime.byName('testing-c')!, { state: 'exited', exitCode: 137 });
    const after = await check();
    expect(after.calls).toEqual({ listContainers: 1, inspectContainer: 1 });
    expect(summary(after.planned)).toEqual(['restart c: stopped (exited, exit code 137)']);
  });

  it('a tag that moved: the list shows an image id, only that image is inspected, and the service is replaced', async () => {
    const { runtime, check } = await fiveServices();
    await check();
    runtime.addImage('busybox:1.35', `sha256:${'b'.repeat(64)}`);
    const after = await check();
    expect(after.calls).toEqual({ listContainers: 1, inspectImage: 1 });
    expect(summary(after.planned)).toHaveLength(5);
  });

  it('given the desired spec hashes, a container about to be replaced is not inspected; the others are', async () => {
    const runtime = fakeWith('busybox:1.35');
    const env = await environment({ 'a.yaml': svc('a'), 'b.yaml': svc('b'), 'c.yaml': svc('c') });
    await converge(runtime, env);
    const changed = await environment({ 'a.yaml': svc('a', 'environment: { REV: "2" }\n'), 'b.yaml': svc('b', 'environment: { REV: "2" }\n'), 'c.yaml': svc('c') });
    const counted = countingRuntime(runtime);
    const desiredHashes = new Map(changed.services.map((s) => [s.name, s.specHash]));
    const actual = await observe(counted.runtime, changed.name, ['busybox:1.35'], { desiredHashes });
    expect(Object.fromEntries(counted.calls)).toEqual({ listContainers: 1, inspectContainer: 1, apiVersion: 1 });
    expect(summary(plan(changed, actual, 'r2'))).toEqual(['replace a: spec changed: environment.REV', 'replace b: spec changed: environment.REV']);
  });

  it('docker update (invisible in the list) is seen once the engine event makes the cache forget that container', async () => {
    const { runtime, cache, check } = await fiveServices();
    await check();
    const c = runtime.byName('testing-b')!;
    Object.assign(c, { memoryBytes: 1024 ** 3 });
    expect(summary((await check()).planned)).toEqual([]); // not visible without the event
    cache.forget(c.id);
    const after = await check();
    expect(after.calls).toEqual({ listContainers: 1, inspectContainer: 1 });
    expect(summary(after.planned)).toEqual(['restart b: changed outside git: memory limit 1073741824 (spec: none)']);
  });

  it('follow() forgets a container on its engine update event', async () => {
    const { runtime, cache, check } = await fiveServices();
    const following = cache.follow(runtime);
    await check();
    const c = runtime.byName('testing-a')!;
    Object.assign(c, { restartPolicy: 'always' });
    runtime.emit(c.id, 'update');
    const after = await check();
    expect(after.calls).toEqual({ listContainers: 1, inspectContainer: 1 });
    expect(summary(after.planned)).toEqual(['restart a: changed outside git: restart policy always (spec: unless-stopped)']);
    following.close();
  });

  it('entries older than maxAgeMs are inspected again', async () => {
    let now = 0;
    const runtime = fakeWith('busybox:1.35');
    const env = await environment({ 'a.yaml': svc('a') });
    await converge(runtime, env);
    const counted = countingRuntime(runtime);
    const cache = new InspectCache({ maxAgeMs: 1_000, now: () => now });
    await observe(counted.runtime, env.name, [], { cache });
    counted.reset();
    now = 1_001;
    await observe(counted.runtime, env.name, [], { cache });
    expect(counted.calls.get('inspectContainer')).toBe(1);
  });

  it('without maxAgeMs an entry stays good however old, until an event says otherwise (1,000 containers are not re-inspected at once)', async () => {
    let now = 0;
    const runtime = fakeWith('busybox:1.35');
    const env = await environment({ 'a.yaml': svc('a'), 'b.yaml': svc('b') });
    await converge(runtime, env);
    const counted = countingRuntime(runtime);
    const cache = new InspectCache({ now: () => now });
    await observe(counted.runtime, env.name, [], { cache });
    counted.reset();
    now = 24 * 3600_000;
    await observe(counted.runtime, env.name, [], { cache });
    expect(Object.fromEntries(counted.calls)).toEqual({ listContainers: 1 });
  });

  it.each(['die', 'start', 'restart', 'update'])('follow() forgets a container on its %s event', async (action) => {
    const { runtime, cache, check } = await fiveServices();
    const following = cache.follow(runtime);
    await check();
    runtime.emit(runtime.byName('testing-d')!.id, action);
    expect((await check()).calls).toEqual({ listContainers: 1, inspectContainer: 1 });
    following.close();
  });

  it('a restart by the engine (same state in the list, one more restart) is seen through the events', async () => {
    const { runtime, cache, check } = await fiveServices();
    const following = cache.follow(runtime);
    await check();
    const c = runtime.byName('testing-e')!;
    for (const action of ['die', 'start']) runtime.emit(c.id, action);
    expect((await check()).calls).toEqual({ listContainers: 1, inspectContainer: 1 });
    following.close();
  });

  it('whenever the event stream opens (again), everything is forgotten: nothing said while nobody listened is missed', async () => {
    const { runtime, cache, check } = await fiveServices();
    await check();
    expect(cache.size).toBe(5);
    const following = cache.follow(runtime);
    expect(cache.size).toBe(0);
    expect((await check()).calls).toEqual({ listContainers: 1, inspectContainer: 5 });
    following.close();
  });
});

