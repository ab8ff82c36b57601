// The dockerode adapter of the ContainerRuntime port, against the real engine.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type Docker from 'dockerode';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerError } from '../../src/errors.js';
import { DockerRuntime, demultiplex, dockerClientFor, dockerConfigPath } from '../../src/runtime/docker-runtime.js';
import type { CreateContainer, HealthcheckSpec } from '../../src/runtime/types.js';
import {
  BASE_IMAGE,
  TEST_LABEL,
  buildTestImage,
  freePort,
  httpGet,
  publishedPort,
  removeByLabel,
  requireDocker,
  requireImage,
  uniqueName,
  waitFor,
} from './helpers/docker.js';

const SERVE = 'mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p 8080 -h /www';
const NC_HEALTH = ['CMD-SHELL', 'nc 127.0.0.1 8080 </dev/null'];

describe('DockerRuntime against the real engine', () => {
  let docker: Docker;
  let runtime: DockerRuntime;
  let network: string;
  const runId = uniqueName('runtime');
  const runLabels = { [TEST_LABEL]: runId };

  function spec(overrides: Partial<CreateContainer> = {}): CreateContainer {
    return {
      name: uniqueName('sc-rt'),
      image: BASE_IMAGE,
      command: ['sh', '-c', SERVE],
      entrypoint: null,
      env: {},
      labels: runLabels,
      ports: [],
      mounts: [],
      healthcheck: null,
      restart: 'no',
      init: true,
      stopGraceMs: 2_000,
      resources: { nanoCpus: null, memoryBytes: null, pids: null },
      network,
      aliases: [],
      ...overrides,
    };
  }

  async function run(overrides: Partial<CreateContainer> = {}): Promise<string> {
    const id = await runtime.createContainer(spec(overrides));
    await runtime.startContainer(id);
    return id;
  }

  async function exited(id: string): Promise<number | null> {
    const details = await waitFor(async () => {
      const d = await runtime.inspectContainer(id);
      return d?.state === 'exited' && d;
    }, { what: `container ${id.slice(0, 12)} to exit`, timeoutMs: 20_000 });
    return details.exitCode;
  }

  function health(test: string[] | null, intervalMs = 300): HealthcheckSpec {
    return { test, intervalMs, timeoutMs: 2_000, retries: 1, startPeriodMs: 0 };
  }

  beforeAll(async () => {
    docker = await requireDocker();
    await requireImage(docker);
    runtime = new DockerRuntime(docker, 'unix:///var/run/docker.sock', dockerConfigPath(process.env));
    network = uniqueName('sc-rt-net');
    await runtime.ensureNetwork(network, runLabels);
  });

  afterAll(async () => {
    if (docker) await removeByLabel(docker, TEST_LABEL, runId, { images: true });
  });

  it('creates and starts a container that serves HTTP on an ephemeral 127.0.0.1 port, found by its labels', async () => {
    const service = uniqueName('web');
    const s = spec({
      env: { GREETING: 'hello world', EMPTY: '' },
      labels: { ...runLabels, 'io.stagecoach.service': service },
      ports: [{ target: 8080, protocol: 'tcp', published: null, hostIp: '127.0.0.1' }],
    });
    const id = await runtime.createContainer(s);
    await runtime.startContainer(id);

    const port = await publishedPort(docker, id, '8080/tcp');
    const answer = await waitFor(() => httpGet(`http://127.0.0.1:${port}/`).catch(() => undefined), { what: 'httpd to answer' });
    expect(answer).toEqual({ status: 200, body: 'hi\n' });

    const listed = await runtime.listContainers({ [TEST_LABEL]: runId, 'io.stagecoach.service': service });
    expect(listed).toEqual([
      expect.objectContaining({ id, name: s.name, image: BASE_IMAGE, state: 'running', health: 'none' }),
    ]);
    expect(listed[0]?.labels['io.stagecoach.service']).toBe(service);
    expect(await runtime.listContainers({ [TEST_LABEL]: runId, 'io.stagecoach.service': 'other' })).toEqual([]);

    const raw = await docker.getContainer(id).inspect();
    expect(raw.Config.Env).toEqual(expect.arrayContaining(['GREETING=hello world', 'EMPTY=']));
    expect(raw.HostConfig.Init).toBe(true);
    expect((raw.Config as { StopTimeout?: number }).StopTimeout).toBe(2);
    expect(raw.NetworkSettings.Ports['8080/tcp']?.[0]?.HostIp).toBe('127.0.0.1');
  });

  it('inspects restart policy and resources, and nulls what is unset', async () => {
    const limited = await run({ restart: 'on-failure:3', resources: { nanoCpus: 500_000_000, memoryBytes: 64 * 1024 * 1024, pids: 64 } });
    expect(await runtime.inspectContainer(limited)).toMatchObject({
      id: limited,
      state: 'running',
      exitCode: null,
      restartPolicy: 'on-failure:3',
      nanoCpus: 500_000_000,
      memoryBytes: 64 * 1024 * 1024,
      pidsLimit: 64,
      restartCount: 0,
    });
    expect((await runtime.inspectContainer(limited))?.startedAt).toMatch(/^\d{4}-/);

    const plain = await runtime.createContainer(spec({ restart: 'unless-stopped' }));
    expect(await runtime.inspectContainer(plain)).toMatchObject({
      state: 'created', startedAt: null, restartPolicy: 'unless-stopped', nanoCpus: null, memoryBytes: null, pidsLimit: null,
    });
    expect(await runtime.inspectContainer(uniqueName('missing'))).toBeUndefined();
  });

  it('reports health starting, then healthy; and unhealthy for a failing test', async () => {
    const good = await run({ healthcheck: health(NC_HEALTH, 1_000) });
    expect((await runtime.listContainers(runLabels)).find((c) => c.id === good)?.health).toBe('starting');
    await waitFor(async () => (await runtime.listContainers(runLabels)).find((c) => c.id === good)?.health === 'healthy', { what: 'list to say healthy' });
    expect((await runtime.inspectContainer(good))?.health).toBe('healthy');

    const bad = await run({ healthcheck: health(['CMD-SHELL', 'exit 1']) });
    await waitFor(async () => (await runtime.listContainers(runLabels)).find((c) => c.id === bad)?.health === 'unhealthy', { what: 'list to say unhealthy' });
    expect((await runtime.inspectContainer(bad))?.health).toBe('unhealthy');
  });

  it("keeps the image's health test when test is null, with our timings; ['NONE'] disables it", async () => {
    const image = `stagecoach-test/rt-health:${runId}`;
    await buildTestImage(docker, image, { labels: runLabels, healthcheck: { test: 'nc 127.0.0.1 8080 </dev/null', intervalMs: 3_600_000 } });
    const kept = await run({ image, healthcheck: health(null) });
    await waitFor(async () => (await runtime.inspectContainer(kept))?.health === 'healthy', { what: 'the image test to pass', timeoutMs: 10_000 });

    const disabled = await run({ image, healthcheck: health(['NONE']) });
    expect((await runtime.inspectContainer(disabled))?.health).toBe('none');
  });

  it('lists the image id, not the reference, once the tag has moved to another image; inspect keeps the reference', async () => {
    const image = `stagecoach-test/rt-moving:${runId}`;
    const first = await buildTestImage(docker, image, { labels: runLabels, env: { VERSION: '1' } });
    const id = await runtime.createContainer(spec({ image }));
    expect((await runtime.listContainers(runLabels)).find((c) => c.id === id)).toMatchObject({ image, imageId: first });

    const second = await buildTestImage(docker, image, { labels: runLabels, env: { VERSION: '2' } });
    expect(second).not.toBe(first);
    expect((await runtime.listContainers(runLabels)).find((c) => c.id === id)).toMatchObject({ image: first, imageId: first });
    expect(await runtime.inspectContainer(id)).toMatchObject({ image, imageId: first });
  });

  it('renames a container', async () => {
    const id = await runtime.createContainer(spec());
    const renamed = uniqueName('sc-rt-renamed');
    await runtime.renameContainer(id, renamed);
    expect((await runtime.inspectContainer(id))?.name).toBe(renamed);
  });

  it('stops twice and removes twice without error, anonymous volumes included', async () => {
    const id = await run({ mounts: [{ type: 'volume', source: null, target: '/scratch', readOnly: false }] });
    const anon = (await docker.getContainer(id).inspect()).Mounts.find((m) => m.Destination === '/scratch')?.Name;
    expect(anon).toBeTruthy();

    const started = Date.now();
    await runtime.stopContainer(id, 5_000);
    expect(Date.now() - started).toBeLessThan(4_000); // init forwards SIGTERM
    await runtime.stopContainer(id, 5_000);
    expect((await runtime.inspectContainer(id))?.state).toBe('exited');

    await runtime.removeContainer(id);
    await runtime.removeContainer(id);
    await runtime.stopContainer(id, 1_000);
    expect(await runtime.inspectContainer(id)).toBeUndefined();
    await expect(docker.getVolume(anon!).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it("tails a container's stdout and stderr", async () => {
    // The engine copies stdout and stderr independently: lines written in one burst
    // can land in the log out of order across the two streams, hence the sleeps.
    const id = await run({ command: ['sh', '-c', 'for i in 1 2 3 4 5; do echo out$i; sleep 0.1; echo err$i >&2; sleep 0.1; done'] });
    expect(await exited(id)).toBe(0);
    expect(await runtime.logsTail(id, 4)).toBe('out4\nerr4\nout5\nerr5\n');
  });

  it('demultiplexes frames', () => {
    const frame = (stream: number, text: string): Buffer => {
      const body = Buffer.from(text);
      const header = Buffer.alloc(8);
      header.writeUInt8(stream, 0);
      header.writeUInt32BE(body.length, 4);
      return Buffer.concat([header, body]);
    };
    expect(demultiplex(Buffer.concat([frame(1, 'a\n'), frame(2, 'b\n'), frame(1, '')]))).toBe('a\nb\n');
  });

  it('ensures one network, even when asked twice and concurrently from two runtimes, and containers resolve aliases on it', async () => {
    const name = uniqueName('sc-rt-net');
    await runtime.ensureNetwork(name, runLabels);
    await runtime.ensureNetwork(name, runLabels);
    const other = new DockerRuntime(docker, runtime.host, dockerConfigPath(process.env));
    await Promise.all([0, 1, 2, 3].map((i) => (i % 2 ? other : runtime).ensureNetwork(name, runLabels)));
    await Promise.all([new DockerRuntime(docker, runtime.host, dockerConfigPath(process.env)), other, runtime].map((r) => r.ensureNetwork(`${name}-b`, runLabels)));
    for (const n of [name, `${name}-b`]) {
      const nets = (await docker.listNetworks({ filters: { name: [n] } })).filter((x) => x.Name === n);
      expect(nets).toHaveLength(1);
      expect(nets[0]?.Labels).toMatchObject(runLabels);
      expect(nets[0]?.Driver).toBe('bridge');
    }

    await run({ network: name, aliases: ['web'] });
    const reach = (host: string): Promise<string> => run({ network: name, command: ['sh', '-c', `sleep 0.5; nc -w 2 ${host} 8080 </dev/null`] });
    const [ok, ko] = await Promise.all([reach('web'), reach('nowhere')]);
    expect(await exited(ok)).toBe(0);
    expect(await exited(ko)).not.toBe(0);
  });

  it('ensures a volume once, labelled', async () => {
    const name = uniqueName('sc-rt-vol');
    await runtime.ensureVolume(name, runLabels);
    await runtime.ensureVolume(name, runLabels);
    const { Volumes: vols } = await docker.listVolumes({ filters: { name: [name] } });
    expect(vols.filter((v) => v.Name === name)).toHaveLength(1);
    expect((await docker.getVolume(name).inspect()).Labels).toMatchObject(runLabels);

    const writer = await run({ mounts: [{ type: 'volume', source: name, target: '/data', readOnly: false }], command: ['sh', '-c', 'echo kept > /data/f'] });
    expect(await exited(writer)).toBe(0);
    const reader = await run({ mounts: [{ type: 'volume', source: name, target: '/data', readOnly: true }], command: ['sh', '-c', 'grep -q kept /data/f && ! touch /data/g'] });
    expect(await exited(reader)).toBe(0);
  });

  it('inspects images: present, and missing → undefined', async () => {
    const info = await runtime.inspectImage(BASE_IMAGE);
    expect(info?.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await runtime.inspectImage('stagecoach-test/not-here:1')).toBeUndefined();
  });

  it('fails a pull from a registry that does not answer with a DockerError naming image and host', async () => {
    const ref = '127.0.0.1:1/nope:1';
    const err = await runtime.pullImage(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerError);
    expect((err as DockerError).message).toContain(ref);
    expect((err as DockerError).message).toContain(runtime.host);
    expect((err as DockerError).message).toMatch(/registry is unreachable/);
  });

  it('names the image that cannot be created', async () => {
    const s = spec({ image: 'stagecoach-test/not-here:1' });
    await expect(runtime.createContainer(s)).rejects.toThrow(
      new RegExp(`^docker at unix:///var/run/docker.sock: cannot create container ${s.name} from stagecoach-test/not-here:1: No such image`),
    );
  });

  it('names the container in a failed start', async () => {
    const s = spec({ command: ['/no/such/binary'], init: false }); // with init, docker-init starts and then fails
    const id = await runtime.createContainer(s);
    const err = await runtime.startContainer(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerError);
    expect((err as DockerError).message).toContain(`cannot start container ${s.name} (${id.slice(0, 12)}): `);
    expect((err as DockerError).transient).toBe(false);
  });

  it.each([
    ['unix:///nonexistent.sock'],
    ['tcp://127.0.0.1:1'],
  ])('says an engine at %s is unreachable, transiently', async (endpoint) => {
    const { docker: client, host } = dockerClientFor(endpoint, undefined, process.env);
    expect(host).toBe(endpoint);
    const err = await new DockerRuntime(client, host, dockerConfigPath(process.env)).ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerError);
    expect(err).toMatchObject({ transient: true, kind: 'docker' });
    expect((err as DockerError).message).toMatch(new RegExp(`^docker at ${endpoint}: cannot reach the engine: engine unreachable`));
    expect((err as DockerError).cause).toBeInstanceOf(Error);
  });

  it('takes DOCKER_HOST from the given env, else the local socket', async () => {
    expect(dockerClientFor(null, undefined, { DOCKER_HOST: 'unix:///nonexistent.sock' }).host).toBe('unix:///nonexistent.sock');
    const local = dockerClientFor(null, undefined, {});
    expect(local.host).toBe('unix:///var/run/docker.sock');
    await new DockerRuntime(local.docker, local.host, dockerConfigPath(process.env)).ping();
  });

  describe('with a local registry that wants a password', () => {
    let registry: ChildProcess | undefined;
    let dir: string;
    let address: string;
    let password: string;
    let repo: string;
    let tag: string;

    /** Starts docker-registry with htpasswd auth; a missing htpasswd file makes it provision user "docker" and log the password. */
    async function startRegistry(): Promise<void> {
      const config = [
        'version: 0.1', 'log:', '  level: warn', 'storage:', '  filesystem:', `    rootdirectory: ${dir}/data`,
        'http:', `  addr: ${address}`, 'auth:', '  htpasswd:', '    realm: test', `    path: ${dir}/htpasswd`,
      ].join('\n');
      await writeFile(join(dir, 'config.yml'), config + '\n');
      const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
      registry = child;
      let log = '';
      child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
      password = await waitFor(async () => /provisioning with default user.* password=(\S+)/.exec(log)?.[1], { what: 'the registry to provision its user' });
      await waitFor(() => httpGet(`http://${address}/v2/`).then((r) => r.status === 401).catch(() => false), { what: 'the registry to answer' });
    }

    async function follow(stream: NodeJS.ReadableStream): Promise<{ error?: string }[]> {
      return new Promise((resolve, reject) =>
        docker.modem.followProgress(stream, (err: Error | null, items: { error?: string }[]) => (err ? reject(err) : resolve(items))),
      );
    }

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'stagecoach-registry-'));
      address = `127.0.0.1:${await freePort()}`;
      await startRegistry();
      repo = `${address}/stagecoach-test/busybox`;
      tag = `${repo}:${runId}`;
      await docker.getImage(BASE_IMAGE).tag({ repo, tag: runId });
      const pushed = await follow(await docker.getImage(tag).push({ authconfig: { username: 'docker', password, serveraddress: address } }));
      expect(pushed.filter((i) => i.error)).toEqual([]);
      await docker.getImage(tag).remove(); // untag only: busybox:1.35 keeps the image
    });

    afterAll(async () => {
      await docker?.getImage(tag).remove().catch(() => undefined);
      registry?.kill();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('says access is denied without credentials, and never shows them', async () => {
      const anonymous = new DockerRuntime(docker, runtime.host, join(dir, 'no-such-config.json'));
      const err = await anonymous.pullImage(tag).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DockerError);
      expect(err).toMatchObject({ transient: false });
      expect((err as DockerError).message).toContain(`docker at ${runtime.host}: cannot pull image ${tag}: image not found in its registry, or access denied`);
    });

    it("pulls with the credentials of the Docker config file, and then knows the image's registry digest", async () => {
      const configPath = join(dir, 'config.json');
      const auth = Buffer.from(`docker:${password}`).toString('base64');
      await writeFile(configPath, JSON.stringify({ auths: { [address]: { auth } } }));
      const withConfig = new DockerRuntime(docker, runtime.host, configPath);
      expect(await withConfig.inspectImage(tag)).toBeUndefined();

      await withConfig.pullImage(tag);
      const info = await withConfig.inspectImage(tag);
      expect(info?.id).toBe((await runtime.inspectImage(BASE_IMAGE))?.id);
      expect(info?.repoDigests).toEqual([expect.stringMatching(new RegExp(`^${repo.replace(/\./g, '\\.')}@sha256:[0-9a-f]{64}$`))]);
    });

    it('pulls with credentials given by the caller', async () => {
      await docker.getImage(tag).remove().catch(() => undefined);
      await runtime.pullImage(tag, { username: 'docker', password, serveraddress: address });
      expect(await runtime.inspectImage(tag)).toBeDefined();
    });

    it('says plainly that a tag is not in the registry, and with a wrong password that access is denied', async () => {
      const missing = `${repo}:missing`;
      const err = await runtime.pullImage(missing, { username: 'docker', password }).catch((e: unknown) => e);
      expect(err).toMatchObject({ transient: false, kind: 'docker' });
      expect((err as DockerError).message).toContain(`docker at ${runtime.host}: cannot pull image ${missing}: image not found`);
      expect((err as DockerError).message).not.toContain(password);

      const wrong = await runtime.pullImage(tag, { username: 'docker', password: 'wrong-secret' }).catch((e: unknown) => e);
      expect(wrong).toMatchObject({ transient: false, kind: 'docker' });
      expect((wrong as DockerError).message).toMatch(/access denied/);
      expect((wrong as DockerError).message).not.toContain('wrong-secret');
    });
  });

  it('healthcheck start_interval: this engine (API 1.41) is not sent one, and does not keep it; the version is asked once', async () => {
    const version = await runtime.apiVersion();
    expect(version).toBe((await docker.version()).ApiVersion);
    const hc: HealthcheckSpec = { test: ['CMD', 'true'], intervalMs: 1_000, timeoutMs: 1_000, retries: 1, startPeriodMs: 5_000, startIntervalMs: 500 };
    const id = await runtime.createContainer(spec({ healthcheck: hc }));
    const info = await docker.getContainer(id).inspect();
    const sent = (info.Config.Healthcheck as { StartInterval?: number } | undefined)?.StartInterval;
    if (version === '1.41') expect(sent).toBeUndefined();
    else expect(sent).toBe(500_000_000);
    expect(info.Config.Healthcheck?.StartPeriod).toBe(5_000_000_000);
  });
});
