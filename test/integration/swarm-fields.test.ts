// The Swarm-only deploy fields (mode, update_config, rollback_config,
// placement, reservations, endpoint_mode) and secrets/configs as Swarm
// objects, each shown in `docker service inspect` on a real single-node Swarm.
// As in swarm.test.ts the Swarm runs on a second engine this file starts, so
// the shared main engine never joins a Swarm.
import type Docker from 'dockerode';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigRepo, stagecoach } from './helpers/cli.js';
import { buildTestImage, freePort, removeByLabel, requireDocker, TEST_LABEL, uniqueName, waitFor } from './helpers/docker.js';
import { RemoteEngine } from './helpers/remote-engine.js';
import { startSwarmManager, swarmConfigRepo } from './helpers/swarm-manager.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- the Engine API's inspect JSON */
const run = uniqueName('swarmf');
const image = `stagecoach-test/${run}:v1`;
let main: Docker;
let engine: RemoteEngine;
let secretsDir: string;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  main = await requireDocker();
  await buildTestImage(main, image, { files: { '/www/index.html': 'fields\n' }, cmd: ['httpd', '-f', '-p', '8080', '-h', '/www'], labels: { [TEST_LABEL]: run } });
  const manager = await startSwarmManager(main, ['busybox:1.35', image]);
  ({ engine, policy: process.env.STAGECOACH_POLICY } = manager);
  secretsDir = path.join(manager.policyDir, 'secrets');
  await mkdir(secretsDir);
}, 180_000);

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

afterAll(async () => {
  await engine?.stop();
  if (main) await removeByLabel(main, TEST_LABEL, run, { images: true });
}, 120_000);

const swarmEnv = (prefix: string, extra = ''): Promise<ConfigRepo> => swarmConfigRepo(engine, prefix, extra, cleanup);

const manifest = (name: string, extra: string, health = true) =>
  `apiVersion: stagecoach/v1\nkind: Service\nname: ${name}\nimage: ${image}\ninit: true\nstop_grace_period: 1s\n` +
  (health ? 'healthcheck:\n  test: ["CMD-SHELL", "nc 127.0.0.1 8080 </dev/null"]\n  interval: 1s\n  timeout: 1s\n  retries: 2\n' : '') +
  extra;

const inspect = async (repo: ConfigRepo, name: string): Promise<any> => engine.docker.getService(`${repo.env}_${name}`).inspect();
const tasksOf = async (repo: ConfigRepo, name: string): Promise<any[]> => engine.docker.listTasks({ filters: { service: [`${repo.env}_${name}`] } });

describe('Swarm deploy fields', () => {
  it('update and rollback config, placement, reservations and endpoint_mode vip reach the service spec', async () => {
    const repo = await swarmEnv('sf');
    const deploy = [
      'deploy:',
      '  replicas: 2',
      '  update_config: { parallelism: 2, delay: 2s, order: stop-first, failure_action: pause, monitor: 7s, max_failure_ratio: 0.5 }',
      '  rollback_config: { parallelism: 0, delay: 1s, order: start-first, failure_action: continue, monitor: 3s, max_failure_ratio: 0.25 }',
      '  placement:',
      '    constraints: ["node.role == manager", "node.platform.os==linux"]',
      '    preferences: [{ spread: node.labels.zone }]',
      '    max_replicas_per_node: 2',
      '  resources: { reservations: { cpus: "0.1", memory: 16m }, limits: { memory: 64m } }',
      '  endpoint_mode: vip',
      '',
    ].join('\n');
    await repo.write('web.yaml', manifest('web', deploy));
    const applied = await repo.run('apply');
    expect(applied.stdout).toMatch(/✓ web: created .*_web: 2\/2 tasks running/);
    expect(applied.code).toBe(0);
    const web = await inspect(repo, 'web');
    expect(web.Spec.UpdateConfig).toEqual({ Parallelism: 2, Delay: 2e9, FailureAction: 'pause', Monitor: 7e9, MaxFailureRatio: 0.5, Order: 'stop-first' });
    expect(web.Spec.RollbackConfig).toEqual({ Parallelism: 0, Delay: 1e9, FailureAction: 'continue', Monitor: 3e9, MaxFailureRatio: 0.25, Order: 'start-first' });
    expect(web.Spec.TaskTemplate.Placement).toEqual({ Constraints: ['node.role==manager', 'node.platform.os==linux'], Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }], MaxReplicas: 2 });
    expect(web.Spec.TaskTemplate.Resources).toEqual({ Limits: { MemoryBytes: 64 * 1024 * 1024 }, Reservations: { NanoCPUs: 1e8, MemoryBytes: 16 * 1024 * 1024 } });
    // Swarm accepts vip and allocates the address; without IPVS in the kernel nothing answers on it (README: No IPVS).
    expect(web.Spec.EndpointSpec.Mode).toBe('vip');
    expect(web.Endpoint.VirtualIPs?.length).toBeGreaterThan(0);
    const same = await repo.run('plan');
    expect(same.stdout).toMatch(/= noop +web +in sync; 2\/2 tasks running/);
    expect(same.code).toBe(0);

    await repo.write('web.yaml', manifest('web', deploy.replace('max_replicas_per_node: 2', 'max_replicas_per_node: 3').replace('endpoint_mode: vip', 'endpoint_mode: dnsrr')));
    const planned = await repo.run('plan');
    expect(planned.stdout).toContain('spec changed: deploy.placement, deploy.endpoint_mode');
    expect(planned.code).toBe(1);
    expect((await repo.run('apply')).code).toBe(0);
    const after = await inspect(repo, 'web');
    expect(after.Spec.TaskTemplate.Placement.MaxReplicas).toBe(3);
    expect(after.Spec.EndpointSpec.Mode).toBe('dnsrr');
  });

  it('global and job modes: one task per node, jobs that complete, and a mode change recreates the service', async () => {
    const repo = await swarmEnv('sm');
    await repo.write('agent.yaml', manifest('agent', 'deploy: { mode: global }\n'));
    await repo.write('migrate.yaml', manifest('migrate', 'command: ["sh", "-c", "echo migrated"]\nrestart: "no"\ndeploy: { mode: replicated-job, replicas: 2 }\n', false));
    await repo.write('warm.yaml', manifest('warm', 'command: ["true"]\nrestart: on-failure\ndeploy: { mode: global-job }\n', false));
    const applied = await repo.run('apply');
    expect(applied.stdout).toMatch(/✓ agent: created .*_agent: 1\/1 tasks running \(one per node\)/);
    expect(applied.stdout).toMatch(/✓ migrate: created .*_migrate: 2\/2 tasks completed/);
    expect(applied.stdout).toMatch(/✓ warm: created .*_warm: 1\/1 tasks completed \(one per node\)/);
    expect(applied.code).toBe(0);
    expect((await inspect(repo, 'agent')).Spec.Mode).toEqual({ Global: {} });
    expect((await inspect(repo, 'migrate')).Spec.Mode).toEqual({ ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 2 } });
    expect((await inspect(repo, 'warm')).Spec.Mode).toEqual({ GlobalJob: {} });
    expect((await tasksOf(repo, 'migrate')).map((t) => t.Status.State)).toEqual(['complete', 'complete']);
    const same = await repo.run('plan');
    expect(same.stdout).toMatch(/= noop +migrate +in sync; 2\/2 tasks completed/);
    expect(same.code).toBe(0);

    await repo.write('migrate.yaml', manifest('migrate', 'command: ["sh", "-c", "echo migration broke; exit 3"]\nrestart: "no"\ndeploy: { mode: replicated-job, replicas: 2 }\n', false));
    const broken = await repo.run('apply');
    expect(broken.stdout).toMatch(/✗ migrate: failed: job task \w+ failed: task: non-zero exit \(3\)/);
    expect(broken.stdout).toContain('| migration broke');
    expect(broken.code).toBe(1);
    await repo.write('migrate.yaml', manifest('migrate', 'command: ["sh", "-c", "echo migrated again"]\nrestart: "no"\ndeploy: { mode: replicated-job, replicas: 2 }\n', false));
    const rerun = await repo.run('apply');
    expect(rerun.stdout).toMatch(/✓ migrate: updated .*_migrate \(run again\): 2\/2 tasks completed/);
    expect(rerun.code).toBe(0);

    await repo.write('agent.yaml', manifest('agent', 'deploy: { mode: replicated, replicas: 2 }\n'));
    const planned = await repo.run('plan');
    expect(planned.stdout).toContain("Swarm cannot change a service's mode (global → replicated) in place, so it is removed and created again");
    const changed = await repo.run('apply');
    expect(changed.stdout).toMatch(/✓ agent: recreated .*_agent: 2\/2 tasks running/);
    expect(changed.code).toBe(0);
    expect((await inspect(repo, 'agent')).Spec.Mode).toEqual({ Replicated: { Replicas: 2 } });
  });

  it('refuses a bad placement constraint naming file, field and value; nothing is created', async () => {
    const repo = await swarmEnv('sr');
    await repo.write('web.yaml', manifest('web', 'deploy: { placement: { constraints: ["zone==eu"] } }\n'));
    const refused = await repo.run('apply');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`environments/${repo.env}/web\\.yaml:\\d+:\\d+: /deploy/placement/constraints/0 must be a constraint like node\\.role==manager`));
    expect(await engine.docker.listServices({ filters: { label: [`io.stagecoach.environment=${repo.env}`] } })).toEqual([]);
  });
});

describe('Swarm secrets and configs', () => {
  it('become immutable Swarm objects with versioned names, mounted with target and mode; a new version replaces the old, which is pruned', async () => {
    const value = `s3cret-${run}`;
    await writeFile(path.join(secretsDir, 'db_password'), `${value}\n`);
    const envYaml = (motd: string) => `configs:\n  motd: { content: "${motd}" }\ntests:\n  - name: the secret and config are mounted\n    exec: { service: web, command: ["sh", "-c", "test \\"$(cat /etc/app/pw)\\" = ${value} && grep -q ${motd} /motd"] }\n`;
    const repo = await swarmEnv('ss', envYaml('hello-v1'));
    await repo.write('web.yaml', manifest('web', 'secrets: [{ source: db_password, target: /etc/app/pw, mode: "0400" }]\nconfigs: [motd]\n'));
    const env = { STAGECOACH_SECRETS_DIR: secretsDir, STAGECOACH_LOG_LEVEL: 'debug' };
    const applied = await repo.run('apply', [], env);
    expect(applied.code).toBe(0);
    expect(applied.stdout + applied.stderr).not.toContain(value);
    const spec = (await inspect(repo, 'web')).Spec;
    const container = spec.TaskTemplate.ContainerSpec;
    expect(container.Secrets).toEqual([{ File: { Name: '/etc/app/pw', UID: '0', GID: '0', Mode: 0o400 }, SecretID: expect.any(String), SecretName: expect.stringMatching(new RegExp(`^${repo.env}_db_password_[0-9a-f]{12}$`)) }]);
    expect(container.Configs).toEqual([{ File: { Name: '/motd', UID: '0', GID: '0', Mode: 0o444 }, ConfigID: expect.any(String), ConfigName: expect.stringMatching(new RegExp(`^${repo.env}_motd_[0-9a-f]{12}$`)) }]);
    expect(JSON.stringify(spec.Labels)).not.toContain(value);
    const secret: any = await engine.docker.getSecret(container.Secrets[0].SecretID).inspect();
    expect(secret.Spec.Labels).toEqual({ 'io.stagecoach.managed': 'true', 'io.stagecoach.environment': repo.env, 'io.stagecoach.file': 'secret:db_password' });
    expect(secret.Spec.Data).toBeUndefined();
    const verified = await stagecoach(['verify', '--env', repo.env, '--repo', repo.dir], { env });
    expect(verified.stdout).toContain('passed 1/1 tests');
    expect(verified.code).toBe(0);

    const oldConfig = container.Configs[0].ConfigName as string;
    await repo.write('environment.yaml', `apiVersion: stagecoach/v1\nkind: Environment\nname: ${repo.env}\ntarget:\n  docker: unix://${engine.socket}\n  mode: swarm\n${envYaml('hello-v2')}`);
    const planned = await repo.run('plan', [], env);
    expect(planned.stdout).toContain('spec changed: files');
    const updated = await repo.run('apply', [], env);
    expect(updated.code).toBe(0);
    const newConfig = (await inspect(repo, 'web')).Spec.TaskTemplate.ContainerSpec.Configs[0].ConfigName;
    expect(newConfig).not.toBe(oldConfig);
    const configs = ((await engine.docker.listConfigs({ filters: { label: [`io.stagecoach.environment=${repo.env}`] } })) as any[]).map((c) => c.Spec.Name);
    expect(configs).toEqual([newConfig]);
    const again = await stagecoach(['verify', '--env', repo.env, '--repo', repo.dir], { env });
    expect(again.code).toBe(0);
  });
});

describe('placement across two nodes', () => {
  // A second engine on this machine joins as a worker. Two engines in one
  // network namespace cannot both join one overlay network ("error creating
  // vxlan interface: file exists"), so only the worker runs this service's tasks.
  it('a node-label constraint puts the task on the worker node, not the manager', async () => {
    const worker = await RemoteEngine.start();
    let workerId = '';
    cleanup.push(async () => {
      await worker.stop();
      if (workerId) await engine.docker.getNode(workerId).remove({ force: true }).catch(() => undefined);
    });
    await worker.copyImages(main, [image]);
    const info: any = await engine.docker.info();
    const swarm: any = await engine.docker.swarmInspect();
    const listen = await freePort();
    await worker.docker.swarmJoin({ ListenAddr: `127.0.0.1:${listen}`, AdvertiseAddr: `127.0.0.1:${listen}`, RemoteAddrs: [info.Swarm.RemoteManagers[0].Addr], JoinToken: swarm.JoinTokens.Worker } as any);
    workerId = ((await worker.docker.info()) as any).Swarm.NodeID;
    const node: any = await waitFor(async () => {
      const n: any = await engine.docker.getNode(workerId).inspect();
      return n.Status.State === 'ready' ? n : undefined;
    }, { what: 'the worker node to be ready', timeoutMs: 60_000 });
    await engine.docker.getNode(workerId).update({ _query: { version: node.Version.Index }, _body: { ...node.Spec, Labels: { zone: `b-${run}` } } } as any);

    const repo = await swarmEnv('sp');
    await repo.write('web.yaml', manifest('web', `deploy:\n  placement: { constraints: ["node.labels.zone==b-${run}"] }\n`));
    const applied = await repo.run('apply');
    expect(applied.stdout).toMatch(/✓ web: created .*_web: 1\/1 tasks running/);
    expect(applied.code).toBe(0);
    expect((await inspect(repo, 'web')).Spec.TaskTemplate.Placement).toEqual({ Constraints: [`node.labels.zone==b-${run}`] });
    const running = (await tasksOf(repo, 'web')).filter((t) => t.Status.State === 'running');
    expect(running.map((t) => t.NodeID)).toEqual([workerId]);
    expect(workerId).not.toBe(info.Swarm.NodeID);
  }, 180_000);
});
