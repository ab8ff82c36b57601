import type Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess } from './helpers/daemon.js';
import { freePort, httpGet, removeByLabel, requireDocker, TEST_LABEL, uniqueName, waitFor } from './helpers/docker.js';
import { buildVersionImages, requestLoop, webService } from './helpers/edge.js';
import { GitServer, UserClone } from './helpers/git.js';

const run = uniqueName('edgedaemon');
const image = (tag: string) => `stagecoach-test/${run}:${tag}`;
let docker: Docker;
let server: GitServer;
const cleanup: (() => Promise<void>)[] = [];
const envs: string[] = [];

beforeAll(async () => {
  docker = await requireDocker();
  await buildVersionImages(docker, image, { [TEST_LABEL]: run });
  server = await GitServer.start();
});

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  for (const env of envs.splice(0)) await removeByLabel(docker, 'io.stagecoach.environment', env);
});

afterAll(async () => {
  await server?.dispose();
  await removeByLabel(docker, TEST_LABEL, run, { images: true });
});

describe('the daemon and the edge proxy', () => {
  it('heals a removed proxy and deploys a push with 0 failed requests', async () => {
    const env = uniqueName('ed').replace(/-/g, '');
    envs.push(env);
    const port = await freePort();
    const url = await server.createRepo(env, {
      [`environments/${env}/environment.yaml`]: `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\n`,
      [`environments/${env}/web.yaml`]: webService(image('v1'), port),
    });
    const user = await UserClone.of(url);
    cleanup.push(() => user.dispose());
    const daemon = await DaemonProcess.start(['--repo', url, '--interval', '500ms']);
    cleanup.push(() => daemon.dispose());
    await daemon.waitFor(env, (e) => e.state === 'synced', 'the first revision to deploy');
    const page = `http://127.0.0.1:${port}/`;
    expect(await httpGet(page)).toEqual({ status: 200, body: 'version 1\n' });

    const before = await docker.getContainer(`${env}-web.edge`).inspect();
    await docker.getContainer(`${env}-web.edge`).remove({ force: true });
    const healed = await waitFor(async () => {
      const info = await docker.getContainer(`${env}-web.edge`).inspect().catch(() => undefined);
      return info && info.Id !== before.Id && info.State.Running ? info : undefined;
    }, { what: 'the daemon to recreate the removed edge proxy', timeoutMs: 30_000, intervalMs: 200 });
    expect(healed.Config.Labels['io.stagecoach.edge-for']).toBe('web');
    expect(await waitFor(() => httpGet(page), { what: 'the port to answer again', timeoutMs: 10_000 })).toEqual({ status: 200, body: 'version 1\n' });

    const loop = requestLoop(page);
    await user.write(`environments/${env}/web.yaml`, webService(image('v2'), port));
    await user.push('web: version 2');
    await daemon.waitFor(env, (e) => e.services[0]?.image === image('v2') && e.state === 'synced', 'the push to deploy');
    const report = await loop.stop();
    expect(report.failures, `daemon output:\n${daemon.output.slice(-6000)}`).toEqual([]);
    expect(report.answers).toContain('200 version 1');
    expect(report.answers.at(-1)).toBe('200 version 2');
  });
});
