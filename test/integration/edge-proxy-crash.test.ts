import type Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigRepo } from './helpers/cli.js';
import { freePort, httpGet, removeByLabel, requireDocker, TEST_LABEL, uniqueName, waitFor } from './helpers/docker.js';
import { buildVersionImages, webService } from './helpers/edge.js';

const run = uniqueName('edgecrash');
const image = (tag: string) => `stagecoach-test/${run}:${tag}`;
let docker: Docker;
let repo: ConfigRepo;
let env: string;
let port: number;

beforeAll(async () => {
  docker = await requireDocker();
  await buildVersionImages(docker, image, { [TEST_LABEL]: run });
});

afterAll(async () => {
  await removeByLabel(docker, TEST_LABEL, run, { images: true });
});

beforeEach(async () => {
  env = uniqueName('ec').replace(/-/g, '');
  repo = await ConfigRepo.create(env);
  port = await freePort();
});

afterEach(async () => {
  await removeByLabel(docker, 'io.stagecoach.environment', env);
  await repo.dispose();
});

async function containers() {
  const list = await docker.listContainers({ all: true, filters: { label: [`io.stagecoach.environment=${env}`] } });
  return list.map((c) => [c.Names[0]!.slice(1), c.Image, c.State]).sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** Applies and expects convergence; the message shows the CLI output when it does not. */
async function applyOk(): Promise<void> {
  const r = await repo.run('apply');
  expect(`${r.stdout}${r.stderr}`).toContain(`${env}: converged`);
  expect(r.code).toBe(0);
}

const answer = () => waitFor(() => httpGet(`http://127.0.0.1:${port}/`, 1000), { what: 'the published port to answer', timeoutMs: 3_000, intervalMs: 100 });

describe('crash safety behind the edge proxy: kill -9 during a switch, then apply again', () => {
  // after-edge-config: the proxy's file already names the new colour, the running proxy still serves the old one.
  it.each(['after-create', 'after-start', 'during-health-wait', 'after-edge-config', 'after-edge-switch', 'after-retire'])(
    '%s: the port answers throughout and apply converges on the new version',
    async (failpoint) => {
      await repo.write('web.yaml', webService(image('v1'), port));
      await applyOk();
      await repo.write('web.yaml', webService(image('v2'), port));
      const crashed = await repo.run('apply', [], { STAGECOACH_FAILPOINT: `${failpoint}:web` });
      expect(crashed.signal).toBe('SIGKILL');
      // Never zero: right after the crash the port answers, from the old or the new version.
      expect((await answer()).status).toBe(200);

      const recovered = await repo.run('apply');
      expect(recovered.stdout).toContain(`${env}: converged`);
      expect(recovered.code).toBe(0);
      expect(await containers()).toEqual([
        [`${env}-web`, image('v2'), 'running'],
        [`${env}-web.edge`, 'haproxy:2.6-alpine', 'running'],
      ]);
      expect(await answer()).toEqual({ status: 200, body: 'version 2\n' });
      expect((await repo.run('plan')).code).toBe(0);
    },
  );

  // The stop-first points: the host port changing hands (a container that published it itself moves behind the
  // new proxy), and an explicit stop-first behind the proxy. The port may be down after such a crash (stop-first
  // is asked for, or the hand-over is once); the next apply must converge without a duplicate or a lost port.
  const stopFirst = 'deploy: { update_config: { order: stop-first } }\n';
  it.each([
    ['moving behind the proxy', 'after-stop-old'],
    ['moving behind the proxy', 'after-edge-config'],
    ['moving behind the proxy', 'after-edge-switch'],
    ['stop-first behind the proxy', 'after-stop-old'],
    ['stop-first behind the proxy', 'after-edge-switch'],
  ])('%s, %s: apply converges on the new version behind one proxy', async (scenario, failpoint) => {
    const moving = scenario === 'moving behind the proxy';
    await repo.write('web.yaml', webService(image('v1'), port, moving ? 'edge: off\n' : stopFirst));
    await applyOk();
    await repo.write('web.yaml', webService(image('v2'), port, moving ? '' : stopFirst));
    const crashed = await repo.run('apply', [], { STAGECOACH_FAILPOINT: `${failpoint}:web` });
    expect(crashed.signal).toBe('SIGKILL');

    const recovered = await repo.run('apply');
    expect(recovered.stdout).toContain(`${env}: converged`);
    expect(recovered.code).toBe(0);
    expect(await containers()).toEqual([
      [`${env}-web`, image('v2'), 'running'],
      [`${env}-web.edge`, 'haproxy:2.6-alpine', 'running'],
    ]);
    expect(await answer()).toEqual({ status: 200, body: 'version 2\n' });
    // The service container publishes nothing itself: the proxy holds the port.
    expect((await docker.getContainer(`${env}-web`).inspect()).HostConfig.PortBindings ?? {}).toEqual({});
    expect((await repo.run('plan')).code).toBe(0);
  });

  it('a proxy created in a crashed first deploy is adopted, not duplicated', async () => {
    await repo.write('web.yaml', webService(image('v1'), port));
    const crashed = await repo.run('apply', [], { STAGECOACH_FAILPOINT: 'after-edge-switch:web' });
    expect(crashed.signal).toBe('SIGKILL');
    const recovered = await repo.run('apply');
    expect(recovered.code).toBe(0);
    expect(await containers()).toEqual([
      [`${env}-web`, image('v1'), 'running'],
      [`${env}-web.edge`, 'haproxy:2.6-alpine', 'running'],
    ]);
    expect(await answer()).toEqual({ status: 200, body: 'version 1\n' });
  });

  it('a restarted proxy comes back serving the colour of the last switch', async () => {
    await repo.write('web.yaml', webService(image('v1'), port));
    await applyOk();
    await repo.write('web.yaml', webService(image('v2'), port));
    await applyOk();
    await docker.getContainer(`${env}-web.edge`).restart({ t: 1 });
    expect(await answer()).toEqual({ status: 200, body: 'version 2\n' });
    expect((await repo.run('plan')).code).toBe(0);
  });
});
