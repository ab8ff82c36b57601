import type Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigRepo } from './helpers/cli.js';
import { freePort, httpGet, removeByLabel, requireDocker, TEST_LABEL, uniqueName, waitFor } from './helpers/docker.js';
import { buildVersionImages, requestLoop, webService } from './helpers/edge.js';
import { scriptImageBuilder } from '../../src/proxy/edge-image.js';

const run = uniqueName('edge');
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
  env = uniqueName('edge').replace(/-/g, '');
  repo = await ConfigRepo.create(env);
  port = await freePort();
});

afterEach(async () => {
  await removeByLabel(docker, 'io.stagecoach.environment', env);
  await repo.dispose();
});

async function containers() {
  const list = await docker.listContainers({ all: true, filters: { label: [`io.stagecoach.environment=${env}`] } });
  return list.map((c) => ({ name: c.Names[0]!.slice(1), image: c.Image, state: c.State })).sort((a, b) => a.name.localeCompare(b.name));
}

async function hostPorts(name: string): Promise<string[]> {
  const info = await docker.getContainer(name).inspect();
  return Object.entries(info.HostConfig.PortBindings ?? {}).flatMap(([k, v]) => ((v as { HostIp: string; HostPort: string }[] | null) ?? []).map((b) => `${b.HostIp}:${b.HostPort || 'any'}->${k}`));
}

/** Applies and expects convergence; the message shows the CLI output when it does not. */
async function applyOk(): Promise<void> {
  const r = await repo.run('apply');
  expect(`${r.stdout}${r.stderr}`).toContain(`${env}: converged`);
  expect(r.code).toBe(0);
}

const url = () => `http://127.0.0.1:${port}/`;

describe('edge proxy: a fixed host port without downtime', () => {
  it.each(['tcp', 'http'])('replaces under a steady request loop with 0 failed requests (edge: %s)', async (mode) => {
    const extra = mode === 'http' ? 'edge: http\n' : '';
    await repo.write('web.yaml', webService(image('v1'), port, extra));
    const created = await repo.run('apply');
    expect(created.stdout).toContain(`${env}: converged`);
    expect(await containers()).toEqual([
      { name: `${env}-web`, image: image('v1'), state: 'running' },
      { name: `${env}-web.edge`, image: 'haproxy:2.6-alpine', state: 'running' },
    ]);
    // The proxy holds the host port; the service container publishes none.
    expect(await hostPorts(`${env}-web.edge`)).toEqual([`127.0.0.1:${port}->8080/tcp`]);
    expect(await hostPorts(`${env}-web`)).toEqual([]);
    expect(await httpGet(url())).toEqual({ status: 200, body: 'version 1\n' });

    await repo.write('web.yaml', webService(image('v2'), port, extra));
    const planned = await repo.run('plan');
    expect(planned.stdout).toContain(`~ replace  web              ${image('v1')} → ${image('v2')}  (start-first)`);
    expect(planned.stdout).toContain('start-first behind the edge proxy: it switches to the new container once healthy and drains the old one');

    const loop = requestLoop(url());
    const applied = await repo.run('apply');
    await new Promise((r) => setTimeout(r, 300));
    const report = await loop.stop();
    expect(applied.stdout).toContain(`${env}: converged`);
    expect(report.failures).toEqual([]);
    expect(report.answers.length).toBeGreaterThan(50);
    expect(report.answers).toContain('200 version 1');
    expect(report.answers.at(-1)).toBe('200 version 2');
    // Once the new version answered, the old one never did again.
    const firstNew = report.answers.indexOf('200 version 2');
    expect(report.answers.slice(firstNew + 8).filter((a) => a !== '200 version 2')).toEqual([]);

    const web = await docker.getContainer(`${env}-web`).inspect();
    expect(web.Config.Image).toBe(image('v2'));
    expect(web.Config.Labels['io.stagecoach.edge-color']).toBe('green');
    const edge = await docker.getContainer(`${env}-web.edge`).inspect();
    expect(edge.Config.Labels).toMatchObject({ 'io.stagecoach.managed': 'true', 'io.stagecoach.environment': env, 'io.stagecoach.edge-for': 'web' });
    // The mode asked for reaches HAProxy: its configuration file, as the last switch wrote it.
    const config = await docker.getContainer(`${env}-web.edge`).exec({ Cmd: ['cat', '/tmp/stagecoach-edge.cfg'], AttachStdout: true, AttachStderr: true });
    const stream = await config.start({ hijack: true, stdin: false });
    let text = '';
    for await (const chunk of stream) text += (chunk as Buffer).toString('latin1');
    expect(text).toContain(`  mode ${mode}\n`);
    expect(text).toContain('  server green web--green:8080 resolvers docker init-addr last,libc,none\n');
    expect(text).toContain('  server blue web--blue:8080 resolvers docker init-addr last,none disabled\n');
    expect((await containers()).map((c) => c.name)).toEqual([`${env}-web`, `${env}-web.edge`]);
    expect((await repo.run('plan')).code).toBe(0);
  });

  it('a new version that fails its healthcheck is rolled back and the port keeps answering', async () => {
    await repo.write('web.yaml', webService(image('v1'), port));
    await applyOk();
    await repo.write('web.yaml', webService(image('broken'), port));
    const loop = requestLoop(url(), { workers: 2, gapMs: 50 });
    const applied = await repo.run('apply');
    const report = await loop.stop();
    expect(applied.code).toBe(1);
    expect(applied.stdout).toContain(`rolled back: ${env}-web.next its healthcheck failed (unhealthy); ${env}-web kept serving`);
    expect(report.failures).toEqual([]);
    expect(new Set(report.answers)).toEqual(new Set(['200 version 1']));
  });

  it('restarts a proxy stopped by hand, recreates a removed one, and removes it with its service', async () => {
    await repo.write('web.yaml', webService(image('v1'), port));
    await applyOk();
    await docker.getContainer(`${env}-web.edge`).stop({ t: 1 });
    const stopped = await repo.run('plan');
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toContain(`⇄ edge start    web         ${env}-web.edge → blue`);
    expect(stopped.stdout).toContain('edge proxy exited');
    await applyOk();
    expect(await httpGet(url())).toEqual({ status: 200, body: 'version 1\n' });

    await docker.getContainer(`${env}-web.edge`).remove({ force: true });
    const missing = await repo.run('plan');
    expect(missing.stdout).toContain(`missing: no edge proxy ${env}-web.edge`);
    await applyOk();
    expect(await httpGet(url())).toEqual({ status: 200, body: 'version 1\n' });
    expect((await repo.run('plan')).code).toBe(0);

    await repo.remove('web.yaml');
    const pruned = await repo.run('apply');
    expect(pruned.stdout).toContain(`removed edge proxy ${env}-web.edge`);
    expect(await containers()).toEqual([]);
  });

  it('edge: off publishes from the container and updates stop-first; turning the proxy on moves the port behind it once', async () => {
    await repo.write('web.yaml', webService(image('v1'), port, 'edge: off\n'));
    await applyOk();
    expect((await containers()).map((c) => c.name)).toEqual([`${env}-web`]);
    expect(await hostPorts(`${env}-web`)).toEqual([`127.0.0.1:${port}->8080/tcp`]);
    await repo.write('web.yaml', webService(image('v2'), port, 'edge: off\n'));
    expect((await repo.run('plan')).stdout).toContain('stop-first: a fixed host port is published and edge is off');

    await repo.write('web.yaml', webService(image('v1'), port));
    const moving = await repo.run('plan');
    expect(moving.stdout).toContain('moves behind the edge proxy: the host port is handed over once (stop-first)');
    await applyOk();
    expect((await containers()).map((c) => c.name)).toEqual([`${env}-web`, `${env}-web.edge`]);
    expect(await hostPorts(`${env}-web`)).toEqual([]);
    expect(await waitFor(() => httpGet(url()), { what: 'the proxy to answer', timeoutMs: 5_000 })).toEqual({ status: 200, body: 'version 1\n' });

    await repo.write('web.yaml', webService(image('v1'), port, 'edge: off\n'));
    const leaving = await repo.run('apply');
    expect(leaving.stdout).toContain(`removed edge proxy ${env}-web.edge`);
    expect(leaving.code).toBe(0);
    expect(await hostPorts(`${env}-web`)).toEqual([`127.0.0.1:${port}->8080/tcp`]);
    expect(await waitFor(() => httpGet(url()), { what: 'the container to answer', timeoutMs: 5_000 })).toEqual({ status: 200, body: 'version 1\n' });
  });

  it('a UDP port keeps the service stop-first, and plan says why', async () => {
    const udp = await freePort();
    await repo.write('web.yaml', webService(image('v1'), port).replace(`ports: ["127.0.0.1:${port}:8080"]`, `ports: ["127.0.0.1:${port}:8080", "127.0.0.1:${udp}:5353/udp"]`));
    await applyOk();
    expect((await containers()).map((c) => c.name)).toEqual([`${env}-web`]);
    await repo.write('web.yaml', webService(image('v2'), port).replace(`ports: ["127.0.0.1:${port}:8080"]`, `ports: ["127.0.0.1:${port}:8080", "127.0.0.1:${udp}:5353/udp"]`));
    const planned = await repo.run('plan');
    expect(planned.stdout).toContain(`(stop-first)`);
    expect(planned.stdout).toContain(`stop-first: 127.0.0.1:${udp}:5353/udp is UDP, which the edge proxy cannot carry`);
  });

  it('builds the proxy image on demand with scripts/build-proxy-image.sh, saying it is a local stand-in', async () => {
    const name = `stagecoach-test/${run}:edge`;
    try {
      await scriptImageBuilder(process.env)(name, 'unix:///var/run/docker.sock');
      const info = await docker.getImage(name).inspect();
      expect(info.Config.Labels['io.stagecoach.local-standin']).toBe('true');
      expect(info.Config.Labels['org.opencontainers.image.description']).toContain('LOCAL STAND-IN');
      const out = await docker.run(name, ['haproxy', '-v'], new PassThrough(), { HostConfig: { AutoRemove: false, NetworkMode: 'none' }, Labels: { [TEST_LABEL]: run } });
      expect(out[0].StatusCode).toBe(0);
    } finally {
      await removeByLabel(docker, TEST_LABEL, run);
      await docker.getImage(name).remove({ force: true }).catch(() => undefined);
    }
  });
});
