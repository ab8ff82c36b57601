import type Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestImage, httpGet, removeByLabel, requireDocker, TEST_LABEL, uniqueName, waitFor } from './helpers/docker.js';
import { ConfigRepo } from './helpers/cli.js';

const run = uniqueName('reconcile');
const image = (tag: string) => `stagecoach-test/${run}:${tag}`;
let docker: Docker;
let repo: ConfigRepo;
let env: string;

const serve = (text: string) => ({ '/www/index.html': `${text}\n` });

beforeAll(async () => {
  docker = await requireDocker();
  const labels = { [TEST_LABEL]: run };
  const cmd = ['httpd', '-f', '-p', '8080', '-h', '/www'];
  await buildTestImage(docker, image('v1'), { files: serve('version 1'), cmd, labels });
  await buildTestImage(docker, image('v2'), { files: serve('version 2'), cmd, labels });
  // Serves nothing on 8080: its healthcheck fails.
  await buildTestImage(docker, image('broken'), { files: serve('broken'), cmd: ['httpd', '-f', '-p', '9999', '-h', '/www'], labels });
});

afterAll(async () => {
  await removeByLabel(docker, TEST_LABEL, run, { images: true });
});

beforeEach(async () => {
  env = uniqueName('it').replace(/-/g, '');
  repo = await ConfigRepo.create(env);
});

afterEach(async () => {
  await removeByLabel(docker, 'io.stagecoach.environment', env);
  await removeByLabel(docker, TEST_LABEL, env);
  await repo.dispose();
});

const healthcheck = 'healthcheck:\n  test: ["CMD-SHELL", "nc 127.0.0.1 8080 </dev/null"]\n  interval: 1s\n  timeout: 1s\n  retries: 2\n';
const web = (tag: string, extra = '', ports = '"127.0.0.1::8080"') =>
  `apiVersion: stagecoach/v1\nkind: Service\nname: web\nimage: ${image(tag)}\ninit: true\nports: [${ports}]\nstop_grace_period: 2s\n${healthcheck}${extra}`;

async function containers(all = true) {
  const list = await docker.listContainers({ all, filters: { label: [`io.stagecoach.environment=${env}`] } });
  return list.map((c) => ({ id: c.Id, name: c.Names[0]!.slice(1), image: c.Image, state: c.State, labels: c.Labels })).sort((a, b) => a.name.localeCompare(b.name));
}

async function urlOf(name: string): Promise<string> {
  const info = await docker.getContainer(name).inspect();
  const port = info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort;
  return `http://127.0.0.1:${port}/`;
}

/** Docker events for this environment's containers between two instants: what apply wrote. */
async function writesBetween(since: number, until: number): Promise<string[]> {
  const stream = (await docker.getEvents({ since: Math.floor(since / 1000), until: Math.ceil(until / 1000), filters: { label: [`io.stagecoach.environment=${env}`], type: ['container'] } })) as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { Action: string; Actor: { Attributes: { name: string } } })
    .filter((e) => !e.Action.startsWith('exec_') && !e.Action.startsWith('health_status'))
    .map((e) => `${e.Action} ${e.Actor.Attributes.name}`);
}

describe('plan and apply on a real engine', () => {
  it('creates from nothing, then has nothing to do and writes nothing', async () => {
    await repo.write('web.yaml', web('v1'));
    const planned = await repo.run('plan');
    expect(planned.code).toBe(1);
    expect(planned.stdout).toContain(`+ create   web              ${image('v1')}`);
    const applied = await repo.run('apply');
    expect(applied.stdout).toContain(`${env}: converged`);
    expect(applied.code).toBe(0);
    expect((await containers()).map((c) => [c.name, c.image, c.state])).toEqual([[`${env}-web`, image('v1'), 'running']]);
    expect(await httpGet(await urlOf(`${env}-web`))).toEqual({ status: 200, body: 'version 1\n' });

    const again = await repo.run('plan');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('in sync; 1 unchanged');
    // Events have one-second resolution: start watching in a second the first apply did not touch.
    await new Promise((r) => setTimeout(r, 1100));
    const since = Date.now();
    expect((await repo.run('apply')).code).toBe(0);
    expect(await writesBetween(since, Date.now() + 1000)).toEqual([]);
  });

  it("sync.parallelism: 1 rolls a step's services out one at a time: each is created only after the one before it was up", async () => {
    await repo.write('environment.yaml', `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\nsync:\n  parallelism: 1\n`);
    const plain = (name: string) => `apiVersion: stagecoach/v1\nkind: Service\nname: ${name}\nimage: ${image('v1')}\ninit: true\nstop_grace_period: 1s\n`;
    for (const name of ['a', 'b', 'c']) await repo.write(`${name}.yaml`, plain(name));
    const applied = await repo.run('apply');
    expect(applied.stdout).toContain(`${env}: converged`);
    const seen = await Promise.all((await containers()).map(async (c) => (await docker.getContainer(c.id).inspect()) as { Name: string; Created: string; State: { StartedAt: string } }));
    const byCreation = seen.sort((x, y) => Date.parse(x.Created) - Date.parse(y.Created));
    expect(byCreation.map((c) => c.Name)).toHaveLength(3);
    // One at a time: the next container is created after the one before started and passed its 500 ms without a die.
    for (let i = 1; i < byCreation.length; i++) {
      expect(Date.parse(byCreation[i]!.Created) - Date.parse(byCreation[i - 1]!.State.StartedAt)).toBeGreaterThanOrEqual(400);
    }
  });

  it('replaces on an image change: the old container is gone and the new one serves', async () => {
    await repo.write('web.yaml', web('v1'));
    expect((await repo.run('apply')).code).toBe(0);
    const before = await containers();
    await repo.write('web.yaml', web('v2'));
    const planned = await repo.run('plan');
    expect(planned.stdout).toContain(`~ replace  web              ${image('v1')} → ${image('v2')}  (start-first)`);
    expect(planned.stdout).toContain('spec changed: image');
    expect((await repo.run('apply')).code).toBe(0);
    const after = await containers();
    expect(after.map((c) => [c.name, c.image, c.state])).toEqual([[`${env}-web`, image('v2'), 'running']]);
    expect(after[0]!.id).not.toBe(before[0]!.id);
    expect(await httpGet(await urlOf(`${env}-web`))).toEqual({ status: 200, body: 'version 2\n' });
  });

  it('replaces on an environment variable change', async () => {
    await repo.write('web.yaml', web('v1', 'environment: { LOG_LEVEL: info }\n'));
    expect((await repo.run('apply')).code).toBe(0);
    await repo.write('web.yaml', web('v1', 'environment: { LOG_LEVEL: debug }\n'));
    const planned = await repo.run('plan');
    expect(planned.stdout).toContain('environment.LOG_LEVEL: "info" → "debug"');
    expect((await repo.run('apply')).code).toBe(0);
    const info = await docker.getContainer(`${env}-web`).inspect();
    expect(info.Config.Env).toContain('LOG_LEVEL=debug');
  });

  it('restarts a container stopped by hand', async () => {
    await repo.write('web.yaml', web('v1'));
    expect((await repo.run('apply')).code).toBe(0);
    await docker.getContainer(`${env}-web`).stop({ t: 1 });
    const planned = await repo.run('plan');
    expect(planned.code).toBe(1);
    expect(planned.stdout).toMatch(/! restart  web +.*\n +stopped \(exited, exit code \d+\)/);
    expect((await repo.run('apply')).code).toBe(0);
    expect((await containers()).map((c) => c.state)).toEqual(['running']);
    expect((await httpGet(await urlOf(`${env}-web`))).status).toBe(200);
  });

  it('prunes a labelled container no manifest names, keeps it when prune is off, never touches an unlabelled one', async () => {
    await repo.write('web.yaml', web('v1'));
    await repo.write('old.yaml', web('v1').replace('name: web', 'name: old'));
    expect((await repo.run('apply')).code).toBe(0);
    const stranger = await docker.createContainer({ name: `${env}-web-extra`, Image: image('v1'), Labels: { [TEST_LABEL]: env } });
    await stranger.start();
    await repo.remove('old.yaml');

    await repo.write('environment.yaml', `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\nsync: { prune: false }\n`);
    const kept = await repo.run('plan');
    expect(kept.stdout).toContain('= noop     old              no manifest names this service; prune is off: kept');
    expect(kept.code).toBe(0);

    await repo.write('environment.yaml', `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\n`);
    const pruned = await repo.run('apply');
    expect(pruned.stdout).toContain(`removed ${env}-old`);
    expect((await containers()).map((c) => c.name)).toEqual([`${env}-web`]);
    expect((await stranger.inspect()).State.Running).toBe(true);
  });

  it('start-first: a new image whose healthcheck fails is rolled back while the old one answers every request', async () => {
    await repo.write('web.yaml', web('v1'));
    expect((await repo.run('apply')).code).toBe(0);
    const url = await urlOf(`${env}-web`);
    await repo.write('web.yaml', web('broken'));
    let polling = true;
    const answers: string[] = [];
    const poller = (async () => {
      while (polling) {
        answers.push(await httpGet(url, 1000).then((r) => `${r.status} ${r.body.trim()}`, (e: Error) => `error ${e.message}`));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const applied = await repo.run('apply');
    polling = false;
    await poller;
    expect(applied.code).toBe(1);
    expect(applied.stdout).toContain(`${env}: FAILED`);
    expect(applied.stdout).toContain(`rolled back: ${env}-web.next its healthcheck failed (unhealthy); ${env}-web kept serving`);
    expect(answers.length).toBeGreaterThan(20);
    expect(answers.filter((a) => a !== '200 version 1')).toEqual([]);
    expect((await containers()).map((c) => [c.name, c.image, c.state])).toEqual([[`${env}-web`, image('v1'), 'running']]);
  });

  it('without a healthcheck, a new version that dies right after its start is rolled back while the old one keeps serving', async () => {
    const plain = (command: string) => `apiVersion: stagecoach/v1\nkind: Service\nname: web\nimage: ${image('v1')}\ninit: true\nports: ["127.0.0.1::8080"]\ncommand: ${command}\n`;
    await repo.write('web.yaml', plain('["httpd", "-f", "-p", "8080", "-h", "/www"]'));
    const created = await repo.run('apply');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`created ${env}-web (${image('v1')})`);
    const url = await urlOf(`${env}-web`);
    // Starts fine, then fails a moment later: within the grace period, so the engine's restart is caught too.
    await repo.write('web.yaml', plain('["sh", "-c", "sleep 0.2; echo config missing >&2; exit 4"]'));
    const applied = await repo.run('apply');
    expect(applied.code).toBe(1);
    expect(applied.stdout).toMatch(new RegExp(`rolled back: ${env}-web\\.next (exited with code 4|restarted \\d+ time\\(s\\) \\(last exit code 4\\)); ${env}-web kept serving`));
    expect(applied.stdout).toContain('config missing');
    expect(await httpGet(url)).toEqual({ status: 200, body: 'version 1\n' });
    expect((await containers()).map((c) => [c.name, c.image, c.state])).toEqual([[`${env}-web`, image('v1'), 'running']]);
  });

  it('stop-first: a failing update restores the old container on its fixed port', async () => {
    const port = String(20000 + Math.floor(Math.random() * 20000));
    // edge: off: the container publishes the port itself (stop-first); behind the edge proxy see edge-proxy.test.ts.
    await repo.write('web.yaml', web('v1', 'edge: off\n', `"127.0.0.1:${port}:8080"`));
    expect((await repo.run('apply')).code).toBe(0);
    await repo.write('web.yaml', web('broken', 'edge: off\n', `"127.0.0.1:${port}:8080"`));
    const applied = await repo.run('apply');
    expect(applied.code).toBe(1);
    expect(applied.stdout).toContain(`rolled back: ${env}-web its healthcheck failed (unhealthy); ${env}-web restarted`);
    const answer = await waitFor(() => httpGet(`http://127.0.0.1:${port}/`), { timeoutMs: 10_000, intervalMs: 200, what: 'the restored container to answer' });
    expect(answer).toEqual({ status: 200, body: 'version 1\n' });
    expect((await containers()).map((c) => [c.name, c.image, c.state])).toEqual([[`${env}-web`, image('v1'), 'running']]);
  });

  it('a missing image is a clear error and the old version keeps running', async () => {
    await repo.write('web.yaml', web('v1'));
    expect((await repo.run('apply')).code).toBe(0);
    await repo.write('web.yaml', web('v1').replace(image('v1'), `127.0.0.1:1/${run}/missing:1`));
    const applied = await repo.run('apply');
    expect(applied.code).toBe(1);
    expect(applied.stdout).toContain(`image 127.0.0.1:1/${run}/missing:1 is not present on unix:///var/run/docker.sock and could not be pulled`);
    expect((await containers()).map((c) => [c.name, c.image, c.state])).toEqual([[`${env}-web`, image('v1'), 'running']]);
  });

  it('an invalid manifest changes nothing and exits 2 with the validate messages', async () => {
    await repo.write('web.yaml', web('v1'));
    expect((await repo.run('apply')).code).toBe(0);
    const before = await containers();
    await repo.write('web.yaml', web('v2', 'deploy: { replicas: -1 }\n'));
    const applied = await repo.run('apply');
    expect(applied.code).toBe(2);
    expect(applied.stderr).toContain(`environments/${env}/web.yaml:`);
    expect(applied.stderr).toContain('/deploy/replicas must be >= 0 (got -1)');
    expect(await containers()).toEqual(before);
  });
});

describe('crash safety: kill -9 during apply, then apply again', () => {
  it.each([
    ['after-create', 'start-first'],
    ['after-start', 'start-first'],
    ['during-health-wait', 'start-first'],
    ['after-retire', 'start-first'],
    ['after-stop-old', 'stop-first'],
    ['during-health-wait', 'stop-first'],
    ['after-retire', 'stop-first'],
  ])('%s (%s) converges with exactly one live container', async (failpoint, order) => {
    const ports = order === 'stop-first' ? `"127.0.0.1:${20000 + Math.floor(Math.random() * 20000)}:8080"` : undefined;
    const extra = order === 'stop-first' ? 'edge: off\n' : ''; // stop-first without the edge proxy; with it: edge-proxy-crash.test.ts
    await repo.write('web.yaml', web('v1', extra, ports));
    expect((await repo.run('apply')).code).toBe(0);
    await repo.write('web.yaml', web('v2', extra, ports));
    const crashed = await repo.run('apply', [], { STAGECOACH_FAILPOINT: `${failpoint}:web` });
    expect(crashed.signal).toBe('SIGKILL');
    const recovered = await repo.run('apply');
    expect(recovered.stdout).toContain(`${env}: converged`);
    expect(recovered.code).toBe(0);
    const after = await containers();
    expect(after.map((c) => [c.name, c.image, c.state])).toEqual([[`${env}-web`, image('v2'), 'running']]);
    expect(await httpGet(await urlOf(`${env}-web`))).toEqual({ status: 200, body: 'version 2\n' });
    expect((await repo.run('plan')).code).toBe(0);
  });
});

describe('depends_on conditions on a real engine', () => {
  it('plan says that this engine cannot take healthcheck.start_interval', async () => {
    await repo.write('web.yaml', web('v1', 'environment: { A: "1" }\n').replace('  retries: 2\n', '  retries: 2\n  start_period: 10s\n  start_interval: 500ms\n'));
    const planned = await repo.run('plan');
    expect(planned.stdout).toContain('note web: healthcheck.start_interval (0.5s) is not sent: the engine speaks API 1.41, start_interval needs 1.44');
  });

  const job = (command: string) =>
    `apiVersion: stagecoach/v1\nkind: Service\nname: migrate\nimage: ${image('v1')}\nrestart: "no"\ncommand: ["sh", "-c", ${JSON.stringify(command)}]\n`;
  const dependant = web('v1', 'depends_on:\n  migrate:\n    condition: service_completed_successfully\n');

  it('a migration job that exits 0 runs first, then web starts; the finished job is not restarted', async () => {
    await repo.write('migrate.yaml', job('echo migrated; exit 0'));
    await repo.write('web.yaml', dependant);
    const applied = await repo.run('apply');
    expect(applied.stdout).toContain(`${env}: converged`);
    expect(applied.code).toBe(0);
    const migrate = await docker.getContainer(`${env}-migrate`).inspect();
    expect([migrate.State.Status, migrate.State.ExitCode]).toEqual(['exited', 0]);
    const webInfo = await docker.getContainer(`${env}-web`).inspect();
    expect([webInfo.State.Status, webInfo.State.Health?.Status]).toEqual(['running', 'healthy']);
    expect(Date.parse(webInfo.State.StartedAt)).toBeGreaterThanOrEqual(Date.parse(migrate.State.FinishedAt));

    const again = await repo.run('plan');
    expect(again.stdout).toContain('job completed (exit code 0): not run again until its spec changes');
    expect(again.code).toBe(0);
  });

  it('a migration that exits non-zero fails and web is skipped with the reason', async () => {
    await repo.write('migrate.yaml', job('echo schema locked >&2; exit 3'));
    await repo.write('web.yaml', dependant);
    const applied = await repo.run('apply');
    expect(applied.code).not.toBe(0);
    expect(applied.stdout + applied.stderr).toContain('exited with code 3');
    expect(applied.stdout + applied.stderr).toContain('dependency migrate failed');
    expect(applied.stdout + applied.stderr).toContain('schema locked');
    const migrate = await docker.getContainer(`${env}-migrate`).inspect();
    expect([migrate.State.Status, migrate.State.ExitCode]).toEqual(['exited', 3]);
    expect((await containers()).map((c) => c.name)).toEqual([`${env}-migrate`]);
  });
});
