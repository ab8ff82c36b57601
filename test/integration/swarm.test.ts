// Swarm environments on a real single-node Swarm. The Swarm runs on a second
// engine this file starts (test/integration/helpers/remote-engine.ts), so the
// main engine that other tests share never joins or leaves a Swarm.
// No IPVS here: services publish in host mode and resolve by DNS round robin.
import type Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigRepo, stagecoach } from './helpers/cli.js';
import { buildTestImage, freePort, removeByLabel, requireDocker, TEST_LABEL, uniqueName, waitFor } from './helpers/docker.js';
import type { RemoteEngine } from './helpers/remote-engine.js';
import { startSwarmManager, swarmConfigRepo } from './helpers/swarm-manager.js';

const run = uniqueName('swarm');
const image = (tag: string) => `stagecoach-test/${run}:${tag}`;
let main: Docker;
let engine: RemoteEngine;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  main = await requireDocker();
  const cmd = ['httpd', '-f', '-p', '8080', '-h', '/www'];
  for (const tag of ['v1', 'v2']) await buildTestImage(main, image(tag), { files: { '/www/index.html': `version ${tag}\n` }, cmd, labels: { [TEST_LABEL]: run } });
  ({ engine, policy: process.env.STAGECOACH_POLICY } = await startSwarmManager(main, ['busybox:1.35', image('v1'), image('v2')]));
}, 180_000);

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

afterAll(async () => {
  await engine?.stop();
  if (main) await removeByLabel(main, TEST_LABEL, run, { images: true });
}, 120_000);

const swarmEnv = (prefix: string, extra = ''): Promise<ConfigRepo> => swarmConfigRepo(engine, prefix, extra, cleanup);

const service = (name: string, tag: string, extra = '') =>
  `apiVersion: stagecoach/v1\nkind: Service\nname: ${name}\nimage: ${image(tag)}\ninit: true\nstop_grace_period: 1s\n` +
  `healthcheck:\n  test: ["CMD-SHELL", "nc 127.0.0.1 8080 </dev/null"]\n  interval: 1s\n  timeout: 1s\n  retries: 2\n${extra}`;

async function inspect(repo: ConfigRepo, name: string) {
  return engine.docker.getService(`${repo.env}_${name}`).inspect() as Promise<{ Version: { Index: number }; Spec: any; UpdateStatus?: { State: string; Message: string } }>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function runningTasks(repo: ConfigRepo, name: string) {
  const tasks = await engine.docker.listTasks({ filters: { service: [`${repo.env}_${name}`], 'desired-state': ['running'] } });
  return tasks.filter((t: { Status?: { State?: string } }) => t.Status?.State === 'running');
}

const verify = (repo: ConfigRepo) => stagecoach(['verify', '--env', repo.env, '--repo', repo.dir]);

describe('a Swarm environment', () => {
  it('creates services from the manifests, verifies them over the overlay network, and updates start-first', async () => {
    const port = await freePort();
    const tests = [
      'tests:',
      '  - name: edge answers on its host-mode port',
      `    http: { url: "http://127.0.0.1:${port}/", expect: { status: 200, body: "version v1" } }`,
      '    retries: 10',
      '    delay: 500ms',
      '  - name: web answers by name on the overlay',
      `    container: { image: "${image('v1')}", command: ["sh", "-c", "printf 'GET / HTTP/1.0\\\\r\\\\n\\\\r\\\\n' | nc web 8080"] }`,
      // The overlay's DNS learns the new tasks a moment after they run (gossip): a user's test retries too.
      '    retries: 5',
      '    delay: 1s',
      '  - name: web serves its page file',
      '    exec: { service: web, command: ["test", "-f", "/www/index.html"] }',
      '',
    ].join('\n');
    const repo = await swarmEnv('sw', tests);
    await repo.write('web.yaml', service('web', 'v1', 'environment: { GREETING: hello }\ndeploy:\n  replicas: 2\n  update_config: { order: start-first }\n  resources: { limits: { memory: 64m, cpus: 0.5 } }\n'));
    await repo.write('edge.yaml', service('edge', 'v1', `ports: ["${port}:8080"]\n`));

    const first = await repo.run('apply');
    expect(first.stdout).toContain(`${repo.env}: converged`);
    expect(first.stdout).toMatch(/✓ web: created .*_web: 2\/2 tasks running/);
    expect(first.code).toBe(0);
    const web = await inspect(repo, 'web');
    expect(web.Spec.Labels).toMatchObject({ 'io.stagecoach.managed': 'true', 'io.stagecoach.environment': repo.env, 'io.stagecoach.service': 'web', 'io.stagecoach.replicas': '2' });
    expect(web.Spec.Labels['io.stagecoach.spec-hash']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(web.Spec.Mode).toEqual({ Replicated: { Replicas: 2 } });
    expect(web.Spec.UpdateConfig).toMatchObject({ Order: 'start-first', FailureAction: 'rollback', Parallelism: 1 });
    expect(web.Spec.TaskTemplate.ContainerSpec).toMatchObject({ Image: image('v1'), Env: ['GREETING=hello'], Init: true });
    expect(web.Spec.TaskTemplate.Resources.Limits).toMatchObject({ MemoryBytes: 64 * 1024 * 1024, NanoCPUs: 500_000_000 });
    expect(web.Spec.EndpointSpec.Mode).toBe('dnsrr');
    expect((await inspect(repo, 'edge')).Spec.EndpointSpec.Ports).toEqual([{ Protocol: 'tcp', TargetPort: 8080, PublishedPort: port, PublishMode: 'host' }]);
    expect(await runningTasks(repo, 'web')).toHaveLength(2);
    const network = await engine.docker.getNetwork(`stagecoach-${repo.env}`).inspect();
    expect(network).toMatchObject({ Driver: 'overlay', Attachable: true });

    const checked = await verify(repo);
    expect(checked.stdout).toContain(`${repo.env}: passed 3/3 tests`);
    expect(checked.code).toBe(0);
    const same = await repo.run('plan');
    expect(same.stdout).toMatch(/= noop +web +in sync; 2\/2 tasks running/);
    expect(same.code).toBe(0);

    await repo.write('web.yaml', service('web', 'v2', 'environment: { GREETING: hello }\ndeploy:\n  replicas: 2\n  update_config: { order: start-first }\n  resources: { limits: { memory: 64m, cpus: 0.5 } }\n'));
    const planned = await repo.run('plan');
    expect(planned.stdout).toContain(`~ update   web              ${image('v1')} → ${image('v2')}  (start-first)`);
    expect(planned.stdout).toContain('spec changed: image');
    expect(planned.code).toBe(1);
    const updated = await repo.run('apply');
    expect(updated.stdout).toMatch(/✓ web: updated .*_web \(start-first\): 2\/2 tasks running/);
    expect(updated.code).toBe(0);
    const after = await inspect(repo, 'web');
    expect(after.Spec.TaskTemplate.ContainerSpec.Image).toBe(image('v2'));
    expect(after.UpdateStatus?.State).toBe('completed');
    const answer = await stagecoach(['verify', '--env', repo.env, '--repo', repo.dir]);
    expect(answer.code).toBe(0);
  });

  it('an update whose tasks never get healthy is rolled back by Swarm: exit 1, "rolled back", the task\'s last lines, and it is not applied again', async () => {
    const repo = await swarmEnv('rb');
    await repo.write('web.yaml', service('web', 'v1'));
    expect((await repo.run('apply')).code).toBe(0);
    const good = await inspect(repo, 'web');

    await repo.write('web.yaml', service('web', 'v2', 'command: ["sh", "-c", "echo v2 starting, health will fail; exec httpd -f -p 8080 -h /www"]\n').replace('nc 127.0.0.1 8080 </dev/null', 'exit 1'));
    const failed = await repo.run('apply');
    expect(failed.stdout).toContain(`${repo.env}: rolled back at`);
    expect(failed.stdout).toMatch(/✗ web: rolled back: Swarm rolled the update back: .+/);
    expect(failed.stdout).toContain('| v2 starting, health will fail');
    expect(failed.stdout).not.toContain('converged');
    expect(failed.code).toBe(1);
    const after = await inspect(repo, 'web');
    expect(after.UpdateStatus?.State).toBe('rollback_completed');
    expect(after.Spec.TaskTemplate.ContainerSpec.Image).toBe(image('v1'));
    expect(after.Spec.Labels['io.stagecoach.spec-hash']).toBe(good.Spec.Labels['io.stagecoach.spec-hash']);

    const again = await repo.run('apply');
    expect(again.stdout).toMatch(/✗ web: rolled back: Swarm rolled this spec back \(task \w+: .*unhealthy container\); it is not applied again until the manifests change/);
    expect(again.code).toBe(1);
    expect((await inspect(repo, 'web')).Version.Index).toBe(after.Version.Index);
    const plan = await repo.run('plan');
    expect(plan.stdout).toContain('⏸ held     web');
    expect(plan.code).toBe(1);
  });

  it('heals a service scaled by hand and prunes one removed from git', async () => {
    const repo = await swarmEnv('hp');
    await repo.write('a.yaml', service('a', 'v1'));
    await repo.write('b.yaml', service('b', 'v1'));
    expect((await repo.run('apply')).code).toBe(0);
    const a = await inspect(repo, 'a');
    await engine.docker.getService(`${repo.env}_a`).update({ _query: { version: a.Version.Index }, _body: { ...a.Spec, Mode: { Replicated: { Replicas: 3 } } } } as never);
    await waitFor(async () => (await runningTasks(repo, 'a')).length === 3, { what: 'the hand-scaled replicas', timeoutMs: 60_000 });
    await repo.remove('b.yaml');

    const planned = await repo.run('plan');
    expect(planned.stdout).toMatch(/! heal +a +/);
    expect(planned.stdout).toContain('changed outside git: replicas 3 (spec: 1)');
    expect(planned.stdout).toMatch(/- remove +b +/);
    expect(planned.stdout).toContain('not in git: pruned');
    expect(planned.code).toBe(1);
    const applied = await repo.run('apply');
    expect(applied.stdout).toMatch(/✓ a: healed/);
    expect(applied.stdout).toContain('✓ b: removed b');
    expect(applied.code).toBe(0);
    expect((await inspect(repo, 'a')).Spec.Mode).toEqual({ Replicated: { Replicas: 1 } });
    await waitFor(async () => (await runningTasks(repo, 'a')).length === 1, { what: 'a back at 1 replica', timeoutMs: 60_000 });
    expect(await engine.docker.listServices({ filters: { name: [`${repo.env}_b`] } })).toEqual([]);
    expect((await repo.run('plan')).code).toBe(0);
  });

  it('refuses what Swarm cannot honour, naming file, service, field and reason; nothing is created', async () => {
    const repo = await swarmEnv('rf');
    await repo.write('web.yaml', service('web', 'v1', `ports: ["127.0.0.1:${await freePort()}:8080"]\ndepends_on: [db]\n`));
    await repo.write('db.yaml', service('db', 'v1'));
    const refused = await repo.run('apply');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`environments/${repo.env}/web.yaml: service web: ports[0]: Swarm publishes on every address of a node; it cannot bind 127.0.0.1 only`);
    expect(refused.stderr).toContain(`environments/${repo.env}/web.yaml: service web: depends_on: Swarm starts services independently`);
    expect(await engine.docker.listServices({ filters: { label: [`io.stagecoach.environment=${repo.env}`] } })).toEqual([]);
  });
});

