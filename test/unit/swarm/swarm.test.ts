import { describe, expect, it } from 'vitest';
import type { LoadedEnvironment } from '../../../src/manifest/types.js';
import { applySwarm } from '../../../src/swarm/apply.js';
import { formatSwarmPlan } from '../../../src/swarm/format.js';
import { planSwarm, swarmInSync } from '../../../src/swarm/plan.js';
import { buildServiceBody, monitorMs, restartPolicy, swarmRefusals } from '../../../src/swarm/service-spec.js';
import { execAttempt } from '../../../src/verify/exec.js';
import { FakeRuntime } from '../../support/fake-runtime.js';
import { FakeSwarm } from '../../support/fake-swarm.js';
import { environment, silent, svc } from '../reconcile/support.js';

const swarmTarget = 'target: { mode: swarm }\n';
const health = 'healthcheck:\n  test: ["CMD", "true"]\n  interval: 2s\n  timeout: 1s\n  retries: 3\n  start_period: 4s\n';

async function planOn(swarm: FakeSwarm, env: LoadedEnvironment, revision = 'r1') {
  const services = await swarm.listServices({ 'io.stagecoach.environment': env.name });
  const tasks = Object.fromEntries(await Promise.all(services.map(async (s) => [s.id, await swarm.listTasks(s.id)] as const)));
  return planSwarm(env, { services, tasks }, revision);
}

async function converge(swarm: FakeSwarm, env: LoadedEnvironment, revision = 'r1') {
  let t = 0;
  return applySwarm(await planOn(swarm, env, revision), { swarm, environment: env, secrets: () => 'hunter2', log: silent, sleep: async () => undefined, now: () => (t += 1000), timeoutMs: 10_000 });
}

describe('the Swarm service body', () => {
  it('carries the manifest: image, args, env with secrets resolved, labels, healthcheck, limits, update order, host-mode ports', async () => {
    const env = await environment({ 'web.yaml': svc('web', `command: ["httpd", "-f"]\nenvironment: { A: "1", DB_PASSWORD: { secret: db } }\nports: ["8080:80"]\n${health}deploy:\n  replicas: 1\n  resources: { limits: { memory: 64m, cpus: 0.5, pids: 50 } }\nrestart: on-failure:4\n`) }, swarmTarget);
    const body = buildServiceBody(env, env.services[0]!, 'rev1', () => 'hunter2');
    expect(body.Name).toBe('testing_web');
    expect(body.Labels).toMatchObject({ 'io.stagecoach.managed': 'true', 'io.stagecoach.environment': 'testing', 'io.stagecoach.service': 'web', 'io.stagecoach.revision': 'rev1', 'io.stagecoach.replicas': '1' });
    expect(JSON.stringify(body.Labels)).not.toContain('hunter2');
    expect(body.TaskTemplate).toMatchObject({
      ContainerSpec: { Image: 'busybox:1.35', Args: ['httpd', '-f'], Env: ['A=1', 'DB_PASSWORD=hunter2'], HealthCheck: { Test: ['CMD', 'true'], Interval: 2e9, Timeout: 1e9, Retries: 3, StartPeriod: 4e9 } },
      Resources: { Limits: { MemoryBytes: 64 * 1024 * 1024, NanoCPUs: 5e8, Pids: 50 } },
      RestartPolicy: { Condition: 'on-failure', MaxAttempts: 4 },
      Networks: [{ Target: 'stagecoach-testing', Aliases: ['web'] }],
    });
    expect(body.Mode).toEqual({ Replicated: { Replicas: 1 } });
    expect(body.UpdateConfig).toMatchObject({ FailureAction: 'rollback', Order: 'stop-first', MaxFailureRatio: 0, Monitor: monitorMs(env.services[0]!) * 1e6 });
    expect(body.EndpointSpec).toEqual({ Mode: 'dnsrr', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }] });
  });

  it.each([
    ['no', { Condition: 'none' }],
    ['always', { Condition: 'any' }],
    ['unless-stopped', { Condition: 'any' }],
    ['on-failure', { Condition: 'on-failure' }],
    ['on-failure:2', { Condition: 'on-failure', MaxAttempts: 2 }],
  ])('restart %s becomes %o', (restart, want) => {
    expect(restartPolicy(restart)).toMatchObject(want);
  });

  it('watches an update long enough for the healthcheck to fail (start period + interval x (retries + 1) + timeout), at least 5 s', async () => {
    const env = await environment({ 'a.yaml': svc('a', health), 'b.yaml': svc('b') }, swarmTarget);
    expect(monitorMs(env.services[0]!)).toBe(4000 + 2000 * 4 + 1000 + 2000);
    expect(monitorMs(env.services[1]!)).toBe(5000);
  });

  it('refuses, with reasons, what Swarm would otherwise ignore', async () => {
    const env = await environment({ 'web.yaml': svc('web', 'ports: ["127.0.0.1:8080:80", "9090:90"]\ndepends_on: [db]\npull_policy: always\n'), 'db.yaml': svc('db') }, swarmTarget);
    expect(swarmRefusals(env).map((r) => `${r.file} ${r.service} ${r.field}`)).toEqual([
      'environments/testing/web.yaml web ports[0]',
      'environments/testing/web.yaml web depends_on',
      'environments/testing/web.yaml web pull_policy',
    ]);
  });
});

describe('planSwarm and applySwarm against FakeSwarm', () => {
  it('creates what is missing, then is in sync with a task count', async () => {
    const swarm = new FakeSwarm();
    const env = await environment({ 'web.yaml': svc('web', 'deploy: { replicas: 2 }\n') }, swarmTarget);
    const first = await planOn(swarm, env);
    expect(first.actions).toMatchObject([{ kind: 'create', service: 'web', reasons: ['missing: no Swarm service'] }]);
    const result = await converge(swarm, env);
    expect(result.outcome).toBe('converged');
    expect(result.results[0]).toMatchObject({ outcome: 'ok', message: 'created testing_web: 2/2 tasks running', images: ['busybox:1.35'] });
    expect(swarm.networks).toEqual(new Set(['stagecoach-testing']));
    const again = await planOn(swarm, env);
    expect(swarmInSync(again)).toBe(true);
    expect(formatSwarmPlan(again)).toContain('= noop     web              in sync; 2/2 tasks running');
  });

  it.each([
    ['image', svc('web', 'environment: { A: "1" }\n', 'busybox:1.36'), 'spec changed: image'],
    ['environment', svc('web', 'environment: { A: "2" }\n'), 'spec changed: environment.A'],
    ['replicas', svc('web', 'environment: { A: "1" }\ndeploy: { replicas: 3 }\n'), 'spec changed: deploy.replicas'],
  ])('a change of %s in git is an update that says which field', async (_, changed, reason) => {
    const swarm = new FakeSwarm();
    await converge(swarm, await environment({ 'web.yaml': svc('web', 'environment: { A: "1" }\n') }, swarmTarget));
    const env = await environment({ 'web.yaml': changed }, swarmTarget);
    const plan = await planOn(swarm, env, 'r2');
    expect(plan.actions).toMatchObject([{ kind: 'update', reasons: [reason] }]);
    const result = await converge(swarm, env, 'r2');
    expect(result.outcome).toBe('converged');
    expect(swarmInSync(await planOn(swarm, env, 'r2'))).toBe(true);
  });

  it('a rolled-back update is "rolled back" with the task reason and logs, and is then held, not re-applied', async () => {
    const swarm = new FakeSwarm();
    await converge(swarm, await environment({ 'web.yaml': svc('web') }, swarmTarget));
    const bad = await environment({ 'web.yaml': svc('web', 'environment: { BROKEN: "1" }\n') }, swarmTarget);
    swarm.failing.add(bad.services[0]!.specHash);
    const result = await converge(swarm, bad, 'r2');
    expect(result.outcome).toBe('rolled back');
    expect(result.results[0]).toMatchObject({ outcome: 'rolled back', message: expect.stringMatching(/^Swarm rolled the update back: rollback completed; task task\d+: task: non-zero exit \(143\): dockerexec: unhealthy container$/), logTail: expect.stringContaining('health will fail') });
    const updates = swarm.calls.filter((c) => c.startsWith('update')).length;
    const held = await converge(swarm, bad, 'r2');
    expect(held.outcome).toBe('rolled back');
    expect(held.results[0]).toMatchObject({ outcome: 'rolled back', action: { kind: 'held' } });
    expect(held.results[0]!.message).toMatch(/^Swarm rolled this spec back \(task task\d+: .*unhealthy container\); it is not applied again until the manifests change$/);
    expect(swarm.calls.filter((c) => c.startsWith('update'))).toHaveLength(updates);
    const fixed = await environment({ 'web.yaml': svc('web', 'environment: { FIXED: "1" }\n') }, swarmTarget);
    expect((await planOn(swarm, fixed, 'r3')).actions).toMatchObject([{ kind: 'update' }]);
  });

  it('heals a service scaled by hand (or reports it when selfHeal is off) and prunes what left git', async () => {
    const swarm = new FakeSwarm();
    await converge(swarm, await environment({ 'a.yaml': svc('a'), 'b.yaml': svc('b') }, swarmTarget));
    swarm.scaleByHand('svc-testing_a', 4);
    const env = await environment({ 'a.yaml': svc('a') }, swarmTarget);
    const plan = await planOn(swarm, env, 'r2');
    expect(plan.actions).toMatchObject([
      { kind: 'heal', service: 'a', reasons: ['changed outside git: replicas 4 (spec: 1)'] },
      { kind: 'remove', service: 'b', reasons: ['not in git: pruned'] },
    ]);
    const result = await converge(swarm, env, 'r2');
    expect(result.outcome).toBe('converged');
    expect(swarm.calls.slice(-2)).toEqual(['update testing_a', 'remove testing_b']);
    const off = await environment({ 'a.yaml': svc('a') }, 'target: { mode: swarm }\nsync: { selfHeal: false, prune: false }\n');
    swarm.scaleByHand('svc-testing_a', 2);
    expect((await planOn(swarm, off)).actions).toMatchObject([{ kind: 'noop', reasons: ['changed outside git: replicas 2 (spec: 1)', 'selfHeal is off'] }]);
  });

  it('applies nothing while a field is refused', async () => {
    const swarm = new FakeSwarm();
    const env = await environment({ 'web.yaml': svc('web', 'ports: ["127.0.0.1:8080:80"]\n') }, swarmTarget);
    await expect(converge(swarm, env)).rejects.toThrow('1 field(s) Swarm cannot honour; nothing was changed');
    expect(swarm.calls).toEqual([]);
  });
});

describe('target.mode', () => {
  it('defaults to engine, accepts swarm, and names file, line and value of anything else', async () => {
    expect((await environment({ 'web.yaml': svc('web') })).environment.target.mode).toBe('engine');
    expect((await environment({ 'web.yaml': svc('web') }, swarmTarget)).environment.target.mode).toBe('swarm');
    await expect(environment({ 'web.yaml': svc('web') }, 'target:\n  mode: kubernetes\n')).rejects.toThrow(/environments\/testing\/environment\.yaml:5:9: \/target\/mode must be (equal to )?one of.*engine.*swarm.*kubernetes/);
  });
});

describe('exec tests on a Swarm target', () => {
  it('say plainly that no task of the service runs on this node', async () => {
    const env = await environment({ 'web.yaml': svc('web') }, swarmTarget);
    const attempt = await execAttempt(new FakeRuntime(), env, { service: 'web', command: ['true'] }, 1000);
    expect(attempt).toEqual({ result: 'failed', message: 'no task of service web runs on this node (docker at fake://engine) to run "true" in; exec tests reach only tasks on the node stagecoach talks to' });
  });
});
