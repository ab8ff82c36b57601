import { describe, expect, it } from 'vitest';
import type { LoadedEnvironment } from '../../../src/manifest/types.js';
import { applySwarm } from '../../../src/swarm/apply.js';
import { modeBody, placementBody, updatePolicyBody } from '../../../src/swarm/deploy-spec.js';
import { planSwarm } from '../../../src/swarm/plan.js';
import { taskProgress } from '../../../src/swarm/progress.js';
import { buildServiceBody, swarmRefusals } from '../../../src/swarm/service-spec.js';
import { swarmFileName } from '../../../src/swarm/swarm-files.js';
import type { SecretSource } from '../../../src/reconcile/secrets.js';
import type { SwarmTask } from '../../../src/swarm/types.js';
import { FakeSwarm } from '../../support/fake-swarm.js';
import { environment, silent, svc } from '../reconcile/support.js';

const swarmTarget = 'target: { mode: swarm }\n';
const body = async (extra: string, envExtra = '') => {
  const env = await environment({ 'web.yaml': svc('web', extra) }, swarmTarget + envExtra);
  return buildServiceBody(env, env.services[0]!, 'r1', (name) => `value-of-${name}`, new Map([['ignored', 'x']]));
};

async function planOn(swarm: FakeSwarm, env: LoadedEnvironment, revision = 'r1') {
  const services = await swarm.listServices({ 'io.stagecoach.environment': env.name });
  const tasks = Object.fromEntries(await Promise.all(services.map(async (s) => [s.id, await swarm.listTasks(s.id)] as const)));
  return planSwarm(env, { services, tasks }, revision);
}

async function converge(swarm: FakeSwarm, env: LoadedEnvironment, revision = 'r1', secrets: SecretSource = (n) => `value-of-${n}`) {
  let t = 0;
  return applySwarm(await planOn(swarm, env, revision), { swarm, environment: env, secrets, log: silent, sleep: async () => undefined, now: () => (t += 1000), timeoutMs: 10_000 });
}

describe('Swarm deploy fields in the service body', () => {
  it.each([
    ['replicated', 3, { Replicated: { Replicas: 3 } }],
    ['global', 1, { Global: {} }],
    ['replicated-job', 2, { ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 2 } }],
    ['global-job', 1, { GlobalJob: {} }],
  ] as const)('mode %s with %i replicas is %o', (mode, replicas, want) => {
    expect(modeBody(mode, replicas)).toEqual(want);
  });

  it.each([
    ['nothing set: today\'s defaults', undefined, { Parallelism: 1, Delay: 0, FailureAction: 'rollback', Monitor: 5e9, MaxFailureRatio: 0, Order: 'start-first' }],
    ['every key', { parallelism: 2, delayMs: 1500, failureAction: 'continue' as const, monitorMs: 20_000, maxFailureRatio: 0.25 }, { Parallelism: 2, Delay: 1.5e9, FailureAction: 'continue', Monitor: 2e10, MaxFailureRatio: 0.25, Order: 'start-first' }],
    ['parallelism 0 (all at once)', { parallelism: 0 }, { Parallelism: 0, FailureAction: 'rollback' }],
  ])('update policy: %s', (_, policy, want) => {
    expect(updatePolicyBody(policy, { failureAction: 'rollback', order: 'start-first', monitorMs: 5000 })).toMatchObject(want);
  });

  it.each([
    ['none', undefined, undefined],
    ['constraints', { constraints: ['node.role==manager'] }, { Constraints: ['node.role==manager'] }],
    ['spread and max per node', { preferences: ['node.labels.zone'], maxReplicasPerNode: 2 }, { Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }], MaxReplicas: 2 }],
  ])('placement: %s', (_, placement, want) => {
    expect(placementBody(placement)).toEqual(want);
  });

  it('maps the manifest end to end: mode, update and rollback config, placement, reservations, endpoint mode', async () => {
    const b = await body(
      'deploy:\n  mode: global\n  update_config: { parallelism: 2, delay: 3s, failure_action: pause, monitor: 30s, max_failure_ratio: 0.5, order: stop-first }\n' +
        '  rollback_config: { parallelism: 0, delay: 1s, failure_action: continue, monitor: 10s, max_failure_ratio: 0.1, order: start-first }\n' +
        '  placement: { constraints: ["node.role == manager", "node.labels.zone!=eu-1"], preferences: [{ spread: node.labels.zone }] }\n' +
        '  resources: { reservations: { cpus: "0.25", memory: 32m }, limits: { memory: 64m } }\n  endpoint_mode: vip\n',
    );
    expect(body).toBeDefined();
    expect(b.Mode).toEqual({ Global: {} });
    expect(b.UpdateConfig).toEqual({ Parallelism: 2, Delay: 3e9, FailureAction: 'pause', Monitor: 3e10, MaxFailureRatio: 0.5, Order: 'stop-first' });
    expect(b.RollbackConfig).toEqual({ Parallelism: 0, Delay: 1e9, FailureAction: 'continue', Monitor: 1e10, MaxFailureRatio: 0.1, Order: 'start-first' });
    expect(b.TaskTemplate.Placement).toEqual({ Constraints: ['node.role==manager', 'node.labels.zone!=eu-1'], Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }] });
    expect(b.TaskTemplate.Resources).toEqual({ Limits: { MemoryBytes: 64 * 1024 * 1024 }, Reservations: { NanoCPUs: 2.5e8, MemoryBytes: 32 * 1024 * 1024 } });
    expect(b.EndpointSpec).toMatchObject({ Mode: 'vip' });
  });

  it('keeps today\'s body when none is set, and a rollback of a service with a fixed host port is stop-first like its update', async () => {
    const plain = await body('');
    expect(plain.Mode).toEqual({ Replicated: { Replicas: 1 } });
    expect(plain.RollbackConfig).toEqual({ Parallelism: 1, Delay: 0, FailureAction: 'pause', Monitor: 5e9, MaxFailureRatio: 0, Order: 'start-first' });
    expect(plain.TaskTemplate.Placement).toBeUndefined();
    expect(plain.TaskTemplate.Resources).toEqual({ Limits: {} });
    expect(plain.EndpointSpec).toMatchObject({ Mode: 'dnsrr' });
    const fixed = await body('ports: ["8080:80"]\ndeploy: { rollback_config: { order: start-first } }\n');
    expect(fixed.RollbackConfig).toMatchObject({ Order: 'stop-first' });
  });

  it('a job has no update or rollback config (Swarm refuses one: a job is run again, never rolled)', async () => {
    const job = await body('deploy: { mode: replicated-job, replicas: 3 }\n');
    expect(job.Mode).toEqual({ ReplicatedJob: { MaxConcurrent: 3, TotalCompletions: 3 } });
    expect(job.UpdateConfig).toBeUndefined();
    expect(job.RollbackConfig).toBeUndefined();
  });

  it('writing a default changes no spec hash', async () => {
    const plain = await environment({ 'web.yaml': svc('web') }, swarmTarget);
    const spelled = await environment({ 'web.yaml': svc('web', 'deploy:\n  mode: replicated\n  endpoint_mode: dnsrr\n  update_config: { parallelism: 1, delay: 0s, failure_action: rollback, max_failure_ratio: 0 }\n') }, swarmTarget);
    expect(spelled.services[0]!.specHash).toBe(plain.services[0]!.specHash);
  });

  it('mounts secrets and configs as Swarm secrets and configs with versioned names, target and mode; no value in labels', async () => {
    const b = await body('secrets: [db_password, { source: api_token, target: /etc/app/token, mode: "0400", uid: "100" }]\nconfigs: [motd]\n', 'configs:\n  motd: { content: "welcome\\n" }\n');
    const c = b.TaskTemplate.ContainerSpec as { Secrets: unknown[]; Configs: unknown[] };
    expect(c.Secrets).toEqual([
      { File: { Name: '/etc/app/token', UID: '100', GID: '0', Mode: 0o400 }, SecretID: '', SecretName: swarmFileName('testing', 'api_token', 'value-of-api_token') },
      { File: { Name: '/run/secrets/db_password', UID: '0', GID: '0', Mode: 0o444 }, SecretID: '', SecretName: swarmFileName('testing', 'db_password', 'value-of-db_password') },
    ]);
    expect(c.Configs).toEqual([{ File: { Name: '/motd', UID: '0', GID: '0', Mode: 0o444 }, ConfigID: '', ConfigName: swarmFileName('testing', 'motd', 'welcome\n') }]);
    expect(JSON.stringify(b.Labels)).not.toContain('value-of');
  });

  it.each([
    ['testing', 'db_password', 'a', /^testing_db_password_[0-9a-f]{12}$/],
    ['testing', 'nginx.conf', 'a', /^testing_nginx\.conf_[0-9a-f]{12}$/],
    ['testing', '-weird name-', 'a', /^testing_weird-name_[0-9a-f]{12}$/],
    ['e'.repeat(40), 'x'.repeat(40), 'a', /^e{40}_x{10}_[0-9a-f]{12}$/],
  ])('swarmFileName(%s, %s) is a valid Swarm name', (env, base, data, want) => {
    const name = swarmFileName(env, base, data);
    expect(name).toMatch(want);
    expect(name.length).toBeLessThanOrEqual(64);
    expect(swarmFileName(env, base, `${data}2`)).not.toBe(name);
  });
});

describe('Swarm deploy fields refused with the reason', () => {
  it.each([
    ['deploy: { mode: global }', '/deploy/mode', 'is honoured on Swarm targets only (target.mode: swarm in environments/testing/environment.yaml)'],
    ['deploy: { update_config: { parallelism: 2 } }', '/deploy/update_config/parallelism', 'is honoured on Swarm targets only'],
    ['deploy: { rollback_config: { order: stop-first } }', '/deploy/rollback_config', 'is honoured on Swarm targets only'],
    ['deploy: { placement: { constraints: ["node.role==manager"] } }', '/deploy/placement', 'is honoured on Swarm targets only'],
    ['deploy: { endpoint_mode: vip }', '/deploy/endpoint_mode', 'is honoured on Swarm targets only'],
  ])('on an engine target: %s', async (deploy, pointer, message) => {
    await expect(environment({ 'web.yaml': svc('web', `${deploy}\n`) })).rejects.toThrow(new RegExp(`environments/testing/web\\.yaml:\\d+:\\d+: ${pointer} ${message.replace(/[().]/g, '\\$&')}`));
  });

  it.each([
    ['deploy: { mode: global, replicas: 2 }', '/deploy/replicas has no meaning with deploy.mode global'],
    ['deploy: { mode: replicated-job, update_config: { order: stop-first } }', '/deploy/update_config has no meaning with deploy.mode replicated-job: a job runs to completion'],
    ['deploy: { mode: replicated-job, replicas: 0 }', '/deploy/replicas must be at least 1 for a replicated-job'],
    ['deploy: { mode: global, placement: { max_replicas_per_node: 1 } }', '/deploy/placement/max_replicas_per_node has no meaning with deploy.mode global'],
    ['deploy: { placement: { constraints: ["zone==eu"] } }', '/deploy/placement/constraints/0 must be a constraint like node.role==manager'],
    ['deploy: { placement: { preferences: [{ spread: zone }] } }', '/deploy/placement/preferences/0/spread must be a label like node.labels.zone'],
    ['deploy: { rollback_config: { failure_action: rollback } }', '/deploy/rollback_config/failure_action must be (equal to )?one of'],
    ['deploy: { update_config: { max_failure_ratio: 2 } }', '/deploy/update_config/max_failure_ratio must be <= 1'],
  ])('on a Swarm target: %s', async (deploy, message) => {
    await expect(environment({ 'web.yaml': svc('web', `${deploy}\n`) }, swarmTarget)).rejects.toThrow(new RegExp(message));
  });

  it('refuses container options Swarm services would drop, but not reservations (they reach Resources.Reservations)', async () => {
    const env = await environment({ 'a.yaml': svc('a', 'user: "1000"\nshm_size: 64m\n'), 'b.yaml': svc('b', 'deploy: { resources: { reservations: { cpus: 0.5, memory: 32m } } }\nexpose: [80]\n') }, swarmTarget);
    expect(swarmRefusals(env)).toEqual([{ service: 'a', file: 'environments/testing/a.yaml', field: 'user, shm_size', reason: expect.stringContaining('does not pass these container options to Swarm services yet') }]);
  });
});

describe('modes, secrets and configs through plan and apply (FakeSwarm)', () => {
  const task = (state: SwarmTask['state'], desiredState: SwarmTask['state'], specHash = 'h'): SwarmTask => ({ id: 't', serviceId: 's', nodeId: 'n', slot: null, state, desiredState, message: '', error: null, containerId: null, exitCode: null, specHash, image: 'i', createdAt: '' });

  it.each([
    ['replicated', 2, [task('running', 'running'), task('starting', 'running')], false, '1/2 tasks running'],
    ['replicated', 1, [task('running', 'running'), task('running', 'running', 'old')], true, '1/1 tasks running'],
    ['global', 0, [task('running', 'running'), task('running', 'running')], true, '2/2 tasks running (one per node)'],
    ['global', 0, [], false, '0/0 tasks running (one per node)'],
    ['replicated-job', 2, [task('complete', 'complete'), task('running', 'complete')], false, '1/2 tasks completed'],
    ['replicated-job', 2, [task('complete', 'complete'), task('complete', 'complete')], true, '2/2 tasks completed'],
    ['global-job', 0, [task('complete', 'complete')], true, '1/1 tasks completed (one per node)'],
  ] as const)('%s with %i replicas and those tasks: done %s', (mode, replicas, tasks, done, message) => {
    expect(taskProgress({ mode, replicas }, [...tasks], 'h')).toMatchObject({ done, message });
  });

  it('a job converges when its tasks complete, and a change of mode recreates the service', async () => {
    const swarm = new FakeSwarm();
    const job = await environment({ 'web.yaml': svc('web', 'deploy: { mode: replicated-job, replicas: 2 }\nrestart: "no"\n') }, swarmTarget);
    const first = await converge(swarm, job);
    expect(first.results[0]).toMatchObject({ outcome: 'ok', message: 'created testing_web: 2/2 tasks completed' });
    expect((await planOn(swarm, job)).actions).toMatchObject([{ kind: 'noop', reasons: ['in sync; 2/2 tasks completed'] }]);
    const global = await environment({ 'web.yaml': svc('web', 'deploy: { mode: global }\n') }, swarmTarget);
    const plan = await planOn(swarm, global, 'r2');
    expect(plan.actions).toMatchObject([{ kind: 'update', recreate: true, reasons: [expect.stringContaining("Swarm cannot change a service's mode (replicated-job → global) in place, so it is removed and created again")] }]);
    const second = await converge(swarm, global, 'r2');
    expect(second.results[0]).toMatchObject({ outcome: 'ok', message: 'recreated testing_web: 1/1 tasks running (one per node)' });
    expect(swarm.calls.slice(-2)).toEqual(['remove testing_web', 'create testing_web']);
  });

  it('creates secrets and configs once per content, and prunes the old version once no service uses it', async () => {
    const swarm = new FakeSwarm();
    const withValue = (v: string) => (n: string) => `${n}=${v}`;
    const env = await environment({ 'web.yaml': svc('web', 'secrets: [db_password]\nconfigs: [motd]\n') }, swarmTarget + 'configs:\n  motd: { content: "v1" }\n');
    await converge(swarm, env, 'r1', withValue('one'));
    expect([...swarm.files.keys()].sort()).toEqual([swarmFileName('testing', 'db_password', 'db_password=one'), swarmFileName('testing', 'motd', 'v1')].sort());
    expect([...swarm.files.values()].map((f) => f.labels['io.stagecoach.file']).sort()).toEqual(['config:motd', 'secret:db_password']);
    expect([...swarm.files.values()].map((f) => f.labels)).toContainEqual({ 'io.stagecoach.managed': 'true', 'io.stagecoach.environment': 'testing', 'io.stagecoach.file': 'secret:db_password' });
    const changed = await environment({ 'web.yaml': svc('web', 'secrets: [db_password]\nconfigs: [motd]\n') }, swarmTarget + 'configs:\n  motd: { content: "v2" }\n');
    expect((await planOn(swarm, changed, 'r2')).actions[0]!.reasons).toEqual(['spec changed: files']);
    await converge(swarm, changed, 'r2', withValue('one'));
    expect([...swarm.files.keys()].sort()).toEqual([swarmFileName('testing', 'db_password', 'db_password=one'), swarmFileName('testing', 'motd', 'v2')].sort());
    expect(swarm.calls).toContain(`remove config ${swarmFileName('testing', 'motd', 'v1')}`);
  });

  it('a secret is sent byte for byte, as the daemon host stores it (not decoded, trailing newline kept)', async () => {
    const swarm = new FakeSwarm();
    const stored = Buffer.from([0x30, 0x82, 0xff, 0x00, 0x0a]);
    const secrets: SecretSource = Object.assign(() => 'text form, not for files', { bytes: () => stored });
    const env = await environment({ 'web.yaml': svc('web', 'secrets: [keystore]\n') }, swarmTarget);
    await converge(swarm, env, 'r1', secrets);
    expect([...swarm.files]).toEqual([[swarmFileName('testing', 'keystore', stored), expect.objectContaining({ kind: 'secret', data: stored })]]);
  });

  it('fails naming a secret that is not set on the daemon host, and creates nothing', async () => {
    const swarm = new FakeSwarm();
    const env = await environment({ 'web.yaml': svc('web', 'secrets: [db_password]\n') }, swarmTarget);
    const result = await converge(swarm, env, 'r1', () => undefined);
    expect(result.results[0]).toMatchObject({ outcome: 'failed', message: expect.stringContaining('testing/web: secret not set on the daemon host: db_password') });
    expect(swarm.services.size).toBe(0);
  });
});
