import { describe, expect, it } from 'vitest';
import type { DeployInput, DeployResult } from '../../../src/daemon/deploy-step.js';
import { createMetrics } from '../../../src/daemon/metrics.js';
import type { Decision } from '../../../src/daemon/status.js';
import { swarmMarkerFacts } from '../../../src/daemon/swarm-facts.js';
import { SwarmDeploy } from '../../../src/daemon/swarm-deploy.js';
import type { LoadedEnvironment } from '../../../src/manifest/types.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakeRuntime } from '../../support/fake-runtime.js';
import { FakeSwarm } from '../../support/fake-swarm.js';
import { environment, silent, svc } from '../reconcile/support.js';

const swarmTarget = 'target: { mode: swarm }\n';
const web = (image = 'app:1', extra = '') => svc('web', `deploy:\n  replicas: 2\n  update_config: { order: start-first }\n${extra}`, image);

function setup() {
  const swarm = new FakeSwarm();
  let t = 0;
  const step = new SwarmDeploy({ swarm, secrets: () => 'hunter2', log: silent, metrics: createMetrics(), clock: new FakeClock(), wait: { sleep: async () => undefined, now: () => (t += 1000), timeoutMs: 10_000 } });
  /** One deploy; the decisions told through progress and those returned, in order. */
  const deploy = async (env: LoadedEnvironment, extra: Partial<DeployInput> = {}): Promise<DeployResult & { told: Decision[] }> => {
    const told: Decision[] = [];
    const result = await step.deploy({ env, revision: 'r1', services: [], failed: undefined, autoApply: env.environment.sync.auto, trigger: 'test', progress: (u) => told.push(...u.decisions), ...extra });
    return { ...result, told: [...told, ...result.decisions] };
  };
  return { swarm, step, deploy };
}

const files = (extra: Record<string, string> = {}) => ({ 'web.yaml': web(), ...extra });

describe('the Swarm deploy step decides, and says why', () => {
  it.each([
    { name: 'creates a missing service', before: {}, after: files(), kind: 'deploy', reason: /^create web: missing: no Swarm service \(trigger: test\)$/, calls: ['create testing_web'], state: 'synced' },
    { name: 'updates a changed image start-first', before: files(), after: { 'web.yaml': web('app:2') }, kind: 'deploy', reason: /^update web \(start-first\): spec changed: image/, calls: ['update testing_web'], state: 'synced' },
    { name: 'removes a service no longer in git (prune)', before: files({ 'old.yaml': svc('old') }), after: files(), kind: 'remove', reason: /^remove old: not in git: pruned/, calls: ['remove testing_old'], state: 'synced' },
    { name: 'does nothing when in sync', before: files(), after: files(), kind: null, reason: null, calls: [], state: 'synced' },
    { name: 'waits for a person when sync.auto is off', before: files(), after: { 'web.yaml': web('app:2') }, envExtra: 'sync: { auto: false }\n', kind: 'skip', reason: /^sync\.auto is off: 1 change\(s\) wait for `stagecoach apply` \(update web\)$/, calls: [], state: 'out-of-sync' },
  ])('$name', async ({ before, after, kind, reason, calls, state, envExtra }) => {
    const { swarm, deploy } = setup();
    if (Object.keys(before).length) await deploy(await environment(before, swarmTarget));
    swarm.calls.length = 0;
    const result = await deploy(await environment(after, swarmTarget + (envExtra ?? '')));
    expect(swarm.calls).toEqual(calls);
    expect(result.state).toBe(state);
    expect(result.target).toBe('swarm');
    if (kind) expect(result.told).toMatchObject([{ kind, reason: expect.stringMatching(reason!) }]);
    else expect(result.told).toEqual([]);
  });

  it('heals a service scaled by hand at the next check', async () => {
    const { swarm, deploy } = setup();
    const env = await environment(files(), swarmTarget);
    await deploy(env);
    swarm.scaleByHand('svc-testing_web', 5);
    const healed = await deploy(env, { trigger: 'poll + periodic drift check' });
    expect(healed.told).toMatchObject([{ kind: 'heal', service: 'web', reason: 'heal web: changed outside git: replicas 5 (spec: 2) (trigger: poll + periodic drift check)' }]);
    expect(healed.services[0]).toMatchObject({ state: 'running', lastAction: { kind: 'heal', outcome: 'ok' }, swarm: { replicas: { running: 2, desired: 2 } } });
    expect(healed.changed).toBe(true);
  });

  it('shows each service with its replicas, update state and tasks on their node', async () => {
    const { deploy } = setup();
    const result = await deploy(await environment(files(), swarmTarget));
    expect(result.services).toEqual([
      {
        name: 'web', image: 'app:1', desiredImage: 'app:1', state: 'running', health: 'none',
        lastAction: expect.objectContaining({ kind: 'create', outcome: 'ok' }),
        swarm: { replicas: { running: 2, desired: 2 }, update: null, tasks: [expect.objectContaining({ node: 'manager-1', state: 'running', image: 'app:1', error: null }), expect.objectContaining({ node: 'manager-1' })] },
      },
    ]);
    expect(result).toMatchObject({ converged: true, changed: true, applied: true, errors: [] });
  });
});

describe('an update Swarm rolls back', () => {
  async function rolledBack() {
    const s = setup();
    const good = await environment(files(), swarmTarget);
    await s.deploy(good);
    const bad = await environment({ 'web.yaml': web('app:2') }, swarmTarget);
    s.swarm.failing.add(bad.services[0]!.specHash);
    const result = await s.deploy(bad);
    return { ...s, good, bad, result };
  }

  it('is "rolled back": degraded, the task\'s error and last log lines, held for the daemon, not converged', async () => {
    const { result } = await rolledBack();
    expect(result.state).toBe('degraded');
    expect(result.converged).toBe(false);
    expect(result.changed).toBe(false);
    expect(result.failed?.services).toEqual(new Set(['web']));
    const rollback = result.told.find((d) => d.kind === 'rollback');
    expect(rollback?.reason).toMatch(/^update web rolled back: Swarm rolled the update back: rollback completed; task task\d+: task: non-zero exit \(143\): dockerexec: unhealthy container; last log lines: log of task\d+ \| health will fail$/);
    expect(result.errors[0]).toMatch(/^web: rolled back: Swarm rolled the update back/);
    expect(result.services[0]).toMatchObject({ image: 'app:1', desiredImage: 'app:2', lastAction: { kind: 'update', outcome: 'rolled back' }, swarm: { update: { state: 'rollback_completed' } } });
  });

  it('is not applied again at later checks: no update call, service version unchanged, one decision', async () => {
    const { swarm, bad, result, deploy } = await rolledBack();
    const version = swarm.services.get('svc-testing_web')!.version;
    const updates = swarm.calls.filter((c) => c.startsWith('update')).length;
    let failed = result.failed;
    const later: Decision[] = [];
    for (let i = 0; i < 5; i++) {
      const again = await deploy(bad, { failed, trigger: 'poll + periodic drift check' });
      failed = again.failed;
      later.push(...again.told);
      expect(again.state).toBe('degraded');
      expect(again.errors).toEqual([expect.stringMatching(/^web: Swarm rolled this spec back .*not applied again until the manifests change/)]);
    }
    expect(swarm.calls.filter((c) => c.startsWith('update')).length).toBe(updates);
    expect(swarm.services.get('svc-testing_web')!.version).toBe(version);
    expect(later).toEqual([]);
  });

  it('stays held when Swarm no longer keeps the failed task (the step remembers)', async () => {
    const { swarm, bad, result, deploy } = await rolledBack();
    swarm.tasks.splice(0, swarm.tasks.length, ...swarm.tasks.filter((t) => t.specHash !== bad.services[0]!.specHash));
    const calls = swarm.calls.length;
    const again = await deploy(bad, { failed: result.failed });
    expect(swarm.calls.length).toBe(calls);
    expect(again.errors).toEqual([expect.stringMatching(/^web: Swarm rolled this spec back at r1; it is not applied again until the manifests change \(or a manual sync\)$/)]);
  });

  it.each([
    ['the manifests change', async (s: Awaited<ReturnType<typeof rolledBack>>) => s.deploy(await environment({ 'web.yaml': web('app:3') }, swarmTarget), { failed: s.result.failed }), 'synced', 'app:3'],
    ['a manual sync forgets the failure (tried once more)', async (s: Awaited<ReturnType<typeof rolledBack>>) => s.deploy(s.bad, { failed: undefined }), 'degraded', 'app:1'],
  ] as const)('is applied again when %s', async (_, act, state, image) => {
    const s = await rolledBack();
    const updates = s.swarm.calls.filter((c) => c.startsWith('update')).length;
    const result = await act(s);
    expect(s.swarm.calls.filter((c) => c.startsWith('update')).length).toBe(updates + 1);
    expect(result.state).toBe(state);
    expect(result.services[0]!.image).toBe(image);
  });
});

describe('what the Swarm deploy step refuses or cannot reach', () => {
  it('refuses fields Swarm cannot honour: invalid, nothing created, told once per revision', async () => {
    const { swarm, deploy } = setup();
    const env = await environment({ 'web.yaml': svc('web', 'ports: ["127.0.0.1:8080:80"]\n') }, swarmTarget);
    const first = await deploy(env);
    const second = await deploy(env);
    expect(swarm.calls).toEqual([]);
    expect(first).toMatchObject({ state: 'invalid', applied: false, errors: [expect.stringContaining('environments/testing/web.yaml: service web: ports[0]: Swarm publishes on every address of a node')] });
    expect(first.told).toMatchObject([{ kind: 'invalid' }]);
    expect(second.told).toEqual([]);
  });

  it('throws when the engine is not a Swarm manager (the daemon reports it unreachable and retries)', async () => {
    const { swarm, deploy } = setup();
    swarm.manager = false;
    await expect(deploy(await environment(files(), swarmTarget))).rejects.toThrow('is not in a Swarm');
  });
});

describe('a Swarm environment\'s marker', () => {
  it('records the digest the running tasks use: pinned by Swarm, else the one the engine pulled the image by', async () => {
    const { swarm, deploy } = setup();
    const digest = `sha256:${'a'.repeat(64)}`;
    const env = await environment({ 'web.yaml': web(`registry.test/app:1@${digest}`), 'api.yaml': svc('api', '', 'registry.test/api:1') }, swarmTarget);
    await deploy(env);
    const runtime = new FakeRuntime();
    runtime.addImage('registry.test/api:1', 'sha256:api');
    runtime.images.get('registry.test/api:1')!.repoDigests = [`registry.test/api@sha256:${'b'.repeat(64)}`];
    expect(await swarmMarkerFacts(swarm, runtime, env)).toEqual({
      web: { image: `registry.test/app:1@${digest}`, digest, imageId: null },
      api: { image: 'registry.test/api:1', digest: `sha256:${'b'.repeat(64)}`, imageId: 'sha256:api' },
    });
  });
});
