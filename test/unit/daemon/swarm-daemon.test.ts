import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createMetrics } from '../../../src/daemon/metrics.js';
import { swarmMarkerFacts } from '../../../src/daemon/swarm-facts.js';
import { SwarmDeploy } from '../../../src/daemon/swarm-deploy.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakeRuntime } from '../../support/fake-runtime.js';
import { FakeSwarm } from '../../support/fake-swarm.js';
import { envYaml, serviceYaml } from '../manifest/support.js';
import { harness, silent } from './support.js';

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

const digest = `sha256:${'c'.repeat(64)}`;
const webYaml = (tag: string, extra = '') => serviceYaml('web', `deploy:\n  replicas: 2\n${extra}`, `reg.test/app:${tag}@${digest}`);
const files = { 'environments/shop/environment.yaml': envYaml('shop', 'target: { mode: swarm }\n'), 'environments/shop/web.yaml': webYaml('1') };

async function swarmDaemon() {
  const swarm = new FakeSwarm();
  let t = 0;
  const step = new SwarmDeploy({ swarm, secrets: () => 'hunter2', log: silent, metrics: createMetrics(), clock: new FakeClock(), wait: { sleep: async () => undefined, now: () => (t += 1000), timeoutMs: 10_000 } });
  const runtime = new FakeRuntime();
  const h = await harness(files, { deployFor: () => step, markerFacts: (env) => swarmMarkerFacts(swarm, runtime, env) });
  stop = () => h.daemon.stop();
  const marker = () => parse(h.git.filesAt(h.git.branches.get('main')!)['promotions/shop.yaml'] ?? 'null') as { result: string; revision: string; services: Record<string, { digest: string | null }> } | null;
  const updates = () => swarm.calls.filter((c) => c.startsWith('update')).length;
  return { h, swarm, marker, updates };
}

describe('the daemon with a Swarm environment', () => {
  it('deploys, shows the target kind, and marks the digests the tasks run', async () => {
    const { h, swarm, marker } = await swarmDaemon();
    expect(swarm.calls).toEqual(['create shop_web']);
    expect(h.env('shop')).toMatchObject({ state: 'synced', target: 'swarm', services: [{ name: 'web', swarm: { replicas: { running: 2, desired: 2 } } }], lastMarker: { result: 'passed' } });
    expect(marker()).toMatchObject({ result: 'passed', services: { web: { digest } } });
  });

  it('a rolled-back revision: degraded, one rollback decision, no new marker, and not applied again at later polls and drift checks', async () => {
    const { h, swarm, marker, updates } = await swarmDaemon();
    const passed = marker()!;
    const bad = webYaml('2', 'command: ["false"]\n');
    const loaded = h.git.land({ 'environments/shop/web.yaml': bad }, 'web: 2');
    // The FakeSwarm rolls back every update to the spec hash the daemon applies next.
    const before = updates();
    const original = swarm.updateService.bind(swarm);
    swarm.updateService = async (id, body) => {
      swarm.failing.add((body.TaskTemplate.ContainerSpec as { Labels: Record<string, string> }).Labels['io.stagecoach.spec-hash']!);
      return original(id, body);
    };
    await h.poll();
    const st = h.env('shop');
    expect(st.state).toBe('degraded');
    expect(st.decisions.filter((d) => d.kind === 'rollback')).toMatchObject([{ service: 'web', revision: loaded, reason: expect.stringContaining('Swarm rolled the update back') }]);
    expect(updates()).toBe(before + 1);
    const version = swarm.services.get('svc-shop_web')!.version;
    let checks = 0;
    const list = swarm.listServices.bind(swarm);
    swarm.listServices = async (filter) => (checks++, list(filter));
    for (let i = 0; i < 12; i++) await h.poll(); // 12 polls: at least one periodic drift check of every environment
    expect(checks).toBeGreaterThan(0);
    expect(updates()).toBe(before + 1);
    expect(swarm.services.get('svc-shop_web')!.version).toBe(version);
    expect(h.env('shop').decisions.filter((d) => d.kind === 'rollback' || d.kind === 'deploy' && d.revision === loaded)).toHaveLength(2);
    expect(marker()).toEqual(passed);
    expect(h.env('shop').lastMarker?.revision).toBe(passed.revision);

    h.daemon.syncNow('a person asked');
    await h.settle();
    expect(updates()).toBe(before + 2);
  });
});
