// The local images every other integration test builds on: busybox:1.35
// (made by scripts/build-local-images.sh) and the buildTestImage() helper.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type Docker from 'dockerode';
import { DockerRuntime, dockerConfigPath } from '../../src/runtime/docker-runtime.js';
import { ensureBusyboxImage } from '../../src/runtime/ensure-image.js';
import {
  BASE_IMAGE,
  TEST_LABEL,
  buildTestImage,
  httpGet,
  publishedPort,
  removeByLabel,
  requireDocker,
  requireImage,
  uniqueName,
  waitFor,
} from './helpers/docker.js';

const HELLO = 'hello from stagecoach';

/** An HTTP health check that busybox can run (its nc has no -z). */
const HTTP_HEALTH = `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 8080 | grep -q '200 OK'`;

describe('local example images', () => {
  let docker: Docker;
  const runId = uniqueName('images');
  const labels = { [TEST_LABEL]: runId };

  /** Creates and starts a container labelled for this run, serving 8080 on an ephemeral 127.0.0.1 port. */
  async function startWeb(image: string, cmd?: string[]): Promise<{ id: string; port: number }> {
    const container = await docker.createContainer({
      name: uniqueName('sc-web'),
      Image: image,
      ...(cmd ? { Cmd: cmd } : {}),
      Labels: labels,
      ExposedPorts: { '8080/tcp': {} },
      HostConfig: {
        Init: true,
        PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
      },
    });
    await container.start();
    return { id: container.id, port: await publishedPort(docker, container.id, '8080/tcp') };
  }

  beforeAll(async () => {
    docker = await requireDocker();
  });

  afterAll(async () => {
    if (docker) await removeByLabel(docker, TEST_LABEL, runId, { images: true });
  });

  it(`has ${BASE_IMAGE} in the local engine`, async () => {
    const info = await requireImage(docker, BASE_IMAGE);
    expect(info.Os).toBe('linux');
    expect(info.RepoTags).toContain(BASE_IMAGE);
  });

  it('serves HTTP from a busybox httpd container on a published 127.0.0.1 port', async () => {
    const { id, port } = await startWeb(BASE_IMAGE, [
      'sh',
      '-c',
      `mkdir -p /www && echo ${HELLO} > /www/index.html && exec httpd -f -p 8080 -h /www`,
    ]);
    expect(port).toBeGreaterThan(0);

    const res = await waitFor(
      async () => {
        const r = await httpGet(`http://127.0.0.1:${port}/`);
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `container ${id.slice(0, 12)} to answer HTTP 200` },
    );
    expect(res.body).toBe(`${HELLO}\n`);

    // Init: true makes httpd stop at once instead of after the 10 s grace period.
    const t0 = Date.now();
    await docker.getContainer(id).stop({ t: 10 });
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('buildTestImage builds an image with files, labels, cmd and a healthcheck', async () => {
    const tag = `stagecoach-test/${runId}:ok`;
    const id = await buildTestImage(docker, tag, {
      files: {
        '/www/index.html': 'built by buildTestImage\n',
        '/usr/local/bin/serve': '#!/bin/sh\nexec httpd -f -p 8080 -h /www\n',
      },
      run: ['test -x /usr/local/bin/serve'],
      cmd: ['/usr/local/bin/serve'],
      healthcheck: { test: HTTP_HEALTH, intervalMs: 500, timeoutMs: 2_000, retries: 3 },
      labels: { ...labels, 'io.stagecoach.example': 'web' },
    });
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);

    const info = await docker.getImage(tag).inspect();
    expect(info.Config.Labels).toMatchObject({ [TEST_LABEL]: runId, 'io.stagecoach.example': 'web' });
    expect(info.Config.Cmd).toEqual(['/usr/local/bin/serve']);
    expect(info.Config.Healthcheck?.Test).toEqual(['CMD-SHELL', HTTP_HEALTH]);

    const { id: cid, port } = await startWeb(tag);
    const res = await waitFor(
      async () => {
        const r = await httpGet(`http://127.0.0.1:${port}/`);
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `container from ${tag} to answer HTTP 200` },
    );
    expect(res.body).toBe('built by buildTestImage\n');

    const health = await waitFor(
      async () => {
        const status = (await docker.getContainer(cid).inspect()).State.Health?.Status;
        return status === 'healthy' || status === 'unhealthy' ? status : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: `container from ${tag} to report its health` },
    );
    expect(health).toBe('healthy');
  });

  it('reports a build whose RUN step fails as an error, not a success', async () => {
    const tag = `stagecoach-test/${runId}:broken`;
    await expect(
      buildTestImage(docker, tag, {
        files: { '/hello.txt': 'hi\n' },
        run: ['echo about to fail && exit 3'],
        labels,
      }),
    ).rejects.toThrow(/docker build of .*:broken failed: .*non-zero code: 3/s);

    // No image under that tag, and no intermediate container left behind.
    await expect(docker.getImage(tag).inspect()).rejects.toMatchObject({ statusCode: 404 });
    const leftovers = await docker.listContainers({ all: true, filters: { label: [`${TEST_LABEL}=${runId}`] } });
    expect(leftovers.filter((c) => c.Image.startsWith('sha256:') || c.Image === tag)).toEqual([]);
  });

  it('the example start ensures its image: a missing tag is built from busybox-static (no registry answers), then found', async () => {
    const tag = `stagecoach-test/ensure-${runId}:1.35`;
    const runtime = new DockerRuntime(docker, 'unix:///var/run/docker.sock', dockerConfigPath(process.env));
    const said: string[] = [];
    try {
      expect(await runtime.inspectImage(tag)).toBeUndefined();
      expect(await ensureBusyboxImage(runtime, tag, { say: (l) => said.push(l), pullTimeoutMs: 10_000 })).toBe('built');
      expect(said[0]).toMatch(/is missing and could not be pulled .*: building a local stand-in from Debian's busybox-static/);
      const info = await docker.getImage(tag).inspect();
      expect(info.Config.Labels?.['io.stagecoach.local-standin']).toBe('true');
      expect(info.Config.Labels?.['io.stagecoach.standin-layout']).toBe('2');
      const container = await docker.createContainer({ Image: tag, Cmd: ['sh', '-c', 'echo ok; ls -d /tmp'], Labels: labels, HostConfig: { NetworkMode: 'none' } });
      await container.start();
      expect((await container.wait()).StatusCode).toBe(0);
      expect((await container.logs({ stdout: true, stderr: true })).toString()).toContain('ok');
      expect(await ensureBusyboxImage(runtime, tag, { say: (l) => said.push(l) })).toBe('present');
      expect(said).toHaveLength(2);
    } finally {
      await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
    }
  });
});
