import { afterEach, describe, expect, it } from 'vitest';
import { ContainerDeploy } from '../../../src/daemon/container-deploy.js';
import type { DeployStep } from '../../../src/daemon/deploy-step.js';
import { DriftWatch } from '../../../src/reconcile/drift-watch.js';
import { InspectCache } from '../../../src/reconcile/inspect-cache.js';
import { countedRuntime } from '../../../src/runtime/counted-runtime.js';
import { FakeRuntime } from '../../support/fake-runtime.js';
import { envFiles, fastReady, harness, silent } from './support.js';

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

const three = { ...envFiles('alpha', 'app:1'), ...envFiles('beta', 'app:1'), ...envFiles('gamma', 'app:1') };

describe('what a drift check costs the engine, on /metrics (stagecoach_docker_api_calls_total)', () => {
  it('with nothing changed: one list call per environment, and nothing on the polls between', async () => {
    let step: DeployStep | undefined;
    const h = await harness(three, { start: false, deployFor: () => step! });
    const cache = new InspectCache();
    step = new ContainerDeploy({ runtime: h.runtime, secrets: () => 'hunter2', log: silent, metrics: h.metrics, clock: h.clock, ready: { ...fastReady }, cache });
    stop = () => h.daemon.stop();
    h.daemon.start();
    await h.settle();
    const calls = async () => Object.fromEntries(((await h.metrics.registry.getSingleMetric('stagecoach_docker_api_calls_total')?.get())?.values ?? []).map((v) => [v.labels.operation, v.value]));
    expect((await calls()).createContainer).toBe(3);
    for (let i = 0; i < 10; i++) await h.poll(); // the 10th poll is a drift check of every environment
    const before = { calls: await calls(), observes: (await h.counts()).observes };
    for (let i = 0; i < 9; i++) await h.poll();
    expect(await calls()).toEqual(before.calls);
    await h.poll();
    const after = await calls();
    expect((await h.counts()).observes - before.observes).toBe(3);
    const delta = Object.fromEntries(Object.entries(after).map(([op, n]) => [op, (n as number) - ((before.calls[op] as number | undefined) ?? 0)]).filter(([, n]) => n !== 0));
    expect(delta).toEqual({ listContainers: 3 });
  });
});

describe('a drift check that observes what the last one did skips planning', () => {
  it('yet heals what changed by hand after quiet checks, and deploys a new revision', async () => {
    let step: DeployStep | undefined;
    const h = await harness(three, { start: false, deployFor: () => step! });
    step = new ContainerDeploy({ runtime: h.runtime, secrets: () => 'hunter2', log: silent, metrics: h.metrics, clock: h.clock, ready: { ...fastReady }, cache: new InspectCache() });
    stop = () => h.daemon.stop();
    h.daemon.start();
    await h.settle();
    for (let i = 0; i < 20; i++) await h.poll(); // two quiet drift checks of every environment
    const applies = (await h.counts('beta')).applies;
    await h.runtime.stopContainer(h.runtime.byName('beta-web')!.id); // by hand, between checks
    for (let i = 0; i < 10; i++) await h.poll();
    expect(h.runtime.byName('beta-web')?.state).toBe('running');
    expect((await h.counts('beta')).applies).toBe(applies + 1);
    expect((await h.counts('alpha')).applies).toBe(1);
    expect(h.env('beta').decisions.find((d) => d.kind === 'heal')).toMatchObject({ kind: 'heal', service: 'web', reason: expect.stringMatching(/^restart web: stopped \(exited/) });
    h.runtime.addImage('app:2');
    h.git.land(envFiles('gamma', 'app:2'), 'gamma: app:2');
    await h.poll();
    expect(h.runtime.byName('gamma-web')?.image).toBe('app:2');
    expect(h.env('gamma').decisions.find((d) => d.kind === 'deploy')?.reason).toMatch(/^replace web: spec changed: image/);
  });
});

describe('countedRuntime', () => {
  it('tells each port call by name, before it runs, and passes arguments and answers through', async () => {
    const inner = new FakeRuntime();
    inner.addImage('app:1');
    const seen: string[] = [];
    const runtime = countedRuntime(inner, (op) => seen.push(op));
    expect(runtime.host).toBe(inner.host);
    expect(await runtime.inspectImage('app:1')).toEqual(await inner.inspectImage('app:1'));
    expect(await runtime.inspectImage('missing:1')).toBeUndefined();
    expect(await runtime.listContainers({ 'io.stagecoach.environment': 'alpha' })).toEqual([]);
    await expect(runtime.pullImage('nowhere.invalid/app:9')).rejects.toThrow();
    expect(seen).toEqual(['inspectImage', 'inspectImage', 'listContainers', 'pullImage']);
  });
});

describe("the periodic drift check, when the engine's events vouch for a quiet environment (DriftWatch)", () => {
  const hour = 3_600_000;
  async function watched(resyncMs = hour) {
    let step: DeployStep | undefined;
    const h = await harness(three, { start: false, deployFor: () => step! });
    const watch = new DriftWatch({ resyncMs, now: () => h.clock.now().getTime() });
    const followed = watch.follow(h.runtime);
    step = new ContainerDeploy({ runtime: h.runtime, secrets: () => 'hunter2', log: silent, metrics: h.metrics, clock: h.clock, ready: { ...fastReady }, cache: new InspectCache(), watch });
    stop = async () => {
      followed.close();
      await h.daemon.stop();
    };
    h.daemon.start();
    await h.settle();
    const lists = async () => ((await h.metrics.registry.getSingleMetric('stagecoach_docker_api_calls_total')?.get())?.values ?? []).find((v) => v.labels.operation === 'listContainers')?.value ?? 0;
    const checks = async () => Object.fromEntries(((await h.metrics.registry.getSingleMetric('stagecoach_periodic_drift_checks_total')?.get())?.values ?? []).filter((v) => v.labels.environment === 'beta').map((v) => [v.labels.by, v.value]));
    const tenPolls = async () => {
      for (let i = 0; i < 10; i++) await h.poll();
    };
    return { h, lists, checks, tenPolls };
  }

  it('lists once after the deploy, then not while nothing happens; an event of its containers makes it list again, and heal', async () => {
    const { h, lists, checks, tenPolls } = await watched();
    await tenPolls(); // the first periodic check after a deploy lists: that plan had something to do
    expect(await checks()).toEqual({});
    const before = await lists();
    await tenPolls();
    await tenPolls();
    expect(await lists()).toBe(before);
    expect(await checks()).toEqual({ events: 2 });
    const web = h.runtime.byName('beta-web')!;
    await h.runtime.stopContainer(web.id); // by hand
    h.runtime.emit(web.id, 'die');
    await tenPolls();
    expect(h.runtime.byName('beta-web')?.state).toBe('running');
    expect(h.env('beta').decisions.find((d) => d.kind === 'heal')).toMatchObject({ service: 'web', reason: expect.stringMatching(/^restart web: stopped \(exited/) });
    expect(await checks()).toEqual({ events: 2, list: 1 });
    expect(await lists()).toBe(before + 2); // beta's check and the look after its heal; alpha and gamma stayed vouched for
  });

  it('a change the stream did not report is found at the resync, at the latest', async () => {
    const { h, tenPolls } = await watched(20 * 30_000);
    await tenPolls();
    await tenPolls(); // vouched: listed 300 s ago
    await h.runtime.stopContainer(h.runtime.byName('beta-web')!.id); // and no event told
    await tenPolls(); // 600 s since the last listing: resync
    expect(h.runtime.byName('beta-web')?.state).toBe('running');
  });

  it('a drift check asked for (a Docker event, a schedule, a retry) always lists', async () => {
    const { h, lists, tenPolls } = await watched();
    await tenPolls();
    await tenPolls();
    const before = await lists();
    await h.runtime.stopContainer(h.runtime.byName('beta-web')!.id);
    h.daemon.trigger({ kind: 'docker-event', reason: 'docker event: beta-web die', heal: ['beta'], remote: false });
    await h.settle();
    expect(h.runtime.byName('beta-web')?.state).toBe('running');
    expect(await lists()).toBeGreaterThan(before);
  });

  it('an engine whose event stream ended is listed at every periodic check', async () => {
    const { h, lists, checks, tenPolls } = await watched();
    await tenPolls();
    await tenPolls();
    h.runtime.endStreams(new Error('engine restarted'));
    const before = await lists();
    await tenPolls();
    expect(await lists()).toBe(before + 3);
    expect(await checks()).toEqual({ events: 1, list: 1 });
  });
});

describe('after a cycle that changed containers (afterChanges: a full GC in the CLI)', () => {
  it('is told once per cycle that deployed or healed, never after a quiet one', async () => {
    let told = 0;
    const h = await harness(three, { start: false, afterChanges: () => void told++ });
    stop = () => h.daemon.stop();
    h.daemon.start();
    await h.settle();
    expect(told).toBe(1); // the first deploy of three environments: one cycle
    for (let i = 0; i < 20; i++) await h.poll();
    expect(told).toBe(1);
    h.git.land(envFiles('gamma', 'app:2'), 'gamma: app:2');
    await h.poll();
    expect(told).toBe(2);
    await h.runtime.stopContainer(h.runtime.byName('beta-web')!.id);
    for (let i = 0; i < 10; i++) await h.poll(); // healed at the periodic check
    expect(h.runtime.byName('beta-web')?.state).toBe('running');
    expect(told).toBe(3);
  });
});
