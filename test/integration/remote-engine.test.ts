// A second, real Docker engine reached over tcp:// with client TLS and over
// ssh:// (docker system dial-stdio behind an sshd), started by this file.
// Environments on it are deployed, verified and marked exactly as on the
// main engine, and nothing of theirs lands on the main engine.
import type Docker from 'dockerode';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigRepo, stagecoach } from './helpers/cli.js';
import { DaemonProcess } from './helpers/daemon.js';
import { buildTestImage, freePort, httpGet, removeByLabel, requireDocker, TEST_LABEL, uniqueName } from './helpers/docker.js';
import { git, GitServer, UserClone } from './helpers/git.js';
import { buildVersionImages, requestLoop, webService } from './helpers/edge.js';
import { RemoteEngine } from './helpers/remote-engine.js';

const run = uniqueName('remote');
const image = `stagecoach-test/${run}:v1`;
const versioned = (tag: string) => `stagecoach-test/${run}-edge:${tag}`;
const edgeImage = 'haproxy:2.6-alpine';
let main: Docker;
let engine: RemoteEngine;
const cleanup: (() => Promise<void>)[] = [];
const envs: string[] = [];

beforeAll(async () => {
  main = await requireDocker();
  await buildTestImage(main, image, { files: { '/www/index.html': 'remote hello\n' }, cmd: ['httpd', '-f', '-p', '8080', '-h', '/www'], labels: { [TEST_LABEL]: run } });
  engine = await RemoteEngine.start();
  // Images are not shared between engines: the second one gets busybox and the test image.
  await buildVersionImages(main, versioned, { [TEST_LABEL]: run });
  // Not the edge proxy image: stagecoach copies that one itself (tested below).
  await engine.copyImages(main, ['busybox:1.35', image, versioned('v1'), versioned('v2'), versioned('v3')]);
  // The operator allows the second engine's endpoints: by default the policy refuses every endpoint but the local socket.
  const policyDir = await mkdtemp(path.join(tmpdir(), 'stagecoach-policy-'));
  process.env.STAGECOACH_POLICY = path.join(policyDir, 'policy.yaml');
  await writeFile(process.env.STAGECOACH_POLICY, 'defaults:\n  dockerTargets: [default, "unix:///var/run/docker.sock", "tcp://127.0.0.1:*", "ssh://*@127.0.0.1:*"]\n');
}, 180_000);

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  for (const env of envs.splice(0)) {
    await removeByLabel(engine.docker, 'io.stagecoach.environment', env);
    await removeByLabel(main, 'io.stagecoach.environment', env);
  }
});

afterAll(async () => {
  await engine?.stop();
  if (main) await removeByLabel(main, TEST_LABEL, run, { images: true });
}, 120_000);

function newEnv(prefix: string): string {
  const env = uniqueName(prefix).replace(/-/g, '');
  envs.push(env);
  return env;
}

// edge: off — these tests are about reaching the engine; the edge proxy on this engine has its own tests below.
const webYaml = (port: number) =>
  `apiVersion: stagecoach/v1\nkind: Service\nname: web\nimage: ${image}\ninit: true\nports: ["127.0.0.1:${port}:8080"]\nedge: off\nstop_grace_period: 1s\n` +
  'healthcheck:\n  test: ["CMD-SHELL", "nc 127.0.0.1 8080 </dev/null"]\n  interval: 1s\n  timeout: 1s\n  retries: 2\n';

const testsYaml = (port: number) =>
  [
    'tests:',
    '  - name: homepage answers',
    `    http: { url: "http://127.0.0.1:${port}/", expect: { status: 200, body: "remote hello" } }`,
    '    retries: 5',
    '    delay: 500ms',
    '  - name: e2e reaches web by name',
    `    container: { image: "${image}", command: ["sh", "-c", "printf 'GET / HTTP/1.0\\\\r\\\\n\\\\r\\\\n' | nc web 8080 | grep 'remote hello'"] }`,
    '',
  ].join('\n');

function tlsTarget(): string {
  const t = engine.clientTls;
  return `target:\n  docker: ${engine.tcpUrl}\n  tls: { ca: ${t.ca}, cert: ${t.cert}, key: ${t.key} }\n`;
}

async function containerOn(docker: Docker, name: string): Promise<Docker.ContainerInspectInfo | undefined> {
  return docker.getContainer(name).inspect().catch(() => undefined);
}

describe('a remote engine over tcp:// with client TLS', () => {
  it('is deployed to and verified with `stagecoach apply` and `verify`; the main engine gets nothing', async () => {
    const env = newEnv('tls');
    const port = await freePort();
    const repo = await ConfigRepo.create(env, tlsTarget() + testsYaml(port));
    cleanup.push(() => repo.dispose());
    await repo.write('web.yaml', webYaml(port));

    const applied = await repo.run('apply');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const remote = await containerOn(engine.docker, `${env}-web`);
    expect(remote?.State.Running).toBe(true);
    expect(remote?.Config.Labels).toMatchObject({ 'io.stagecoach.environment': env, 'io.stagecoach.service': 'web' });
    expect(await containerOn(main, `${env}-web`)).toBeUndefined();
    expect((await httpGet(`http://127.0.0.1:${port}/`)).body).toBe('remote hello\n');

    const verified = await stagecoachVerify(repo, env);
    expect(verified.stdout).toContain(`${env}: passed 2/2 tests`);
    expect(verified.code).toBe(0);
    const again = await repo.run('plan');
    expect(again.stdout).toMatch(/= noop +web +in sync/);
    expect(again.code).toBe(0);
  });

  it('without target.tls, or with a CA that did not sign the engine, fails naming the host and the setting; nothing runs', async () => {
    const env = newEnv('notls');
    const repo = await ConfigRepo.create(env, `target:\n  docker: ${engine.tcpUrl}\n`);
    cleanup.push(() => repo.dispose());
    await repo.write('web.yaml', webYaml(await freePort()));
    const plain = await repo.run('apply');
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain(`docker at ${engine.tcpUrl} requires TLS: set target.tls (ca, cert, key)`);

    const t = engine.clientTls;
    await repo.write('environment.yaml', `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\ntarget:\n  docker: ${engine.tcpUrl}\n  tls: { ca: ${t.cert}, cert: ${t.cert}, key: ${t.key} }\n`);
    const wrongCa = await repo.run('apply');
    expect(wrongCa.code).toBe(2);
    expect(wrongCa.stderr).toContain(`TLS with docker at ${engine.tcpUrl} failed`);
    expect(wrongCa.stderr).toContain(`check target.tls — ca ${t.cert}`);
    expect(await containerOn(engine.docker, `${env}-web`)).toBeUndefined();
  });
});

describe('a remote engine over ssh://', () => {
  it('is deployed to and verified through sshd and `docker system dial-stdio`', async () => {
    const env = newEnv('ssh');
    const port = await freePort();
    const repo = await ConfigRepo.create(env, `target:\n  docker: ${engine.sshUrl}\n${testsYaml(port)}`);
    cleanup.push(() => repo.dispose());
    await repo.write('web.yaml', webYaml(port));
    const applied = await repo.run('apply', [], engine.sshEnv);
    expect(applied.code).toBe(0);
    expect((await containerOn(engine.docker, `${env}-web`))?.State.Health?.Status).toBe('healthy');
    expect(await containerOn(main, `${env}-web`)).toBeUndefined();
    const verified = await stagecoachVerify(repo, env, engine.sshEnv);
    expect(verified.stdout).toContain(`${env}: passed 2/2 tests`);
    expect(verified.code).toBe(0);
  });

  it('refuses a host key missing from known_hosts, and a key the host does not authorize, saying what to do', async () => {
    const env = newEnv('sshbad');
    const repo = await ConfigRepo.create(env, `target:\n  docker: ${engine.sshUrl}\n`);
    cleanup.push(() => repo.dispose());
    await repo.write('web.yaml', webYaml(await freePort()));
    const sshPort = new URL(engine.sshUrl).port;
    const unknownHost = await repo.run('apply', [], { ...engine.sshEnv, HOME: repo.dir });
    expect(unknownHost.code).toBe(2);
    expect(unknownHost.stderr).toContain(`the ssh host key of 127.0.0.1:${sshPort} is not in ${repo.dir}/.ssh/known_hosts`);
    // A HOME that knows the host but holds a key the sshd never authorized, and no agent.
    const home = path.join(repo.dir, 'stranger');
    await mkdir(path.join(home, '.ssh'), { recursive: true });
    await copyFile(path.join(engine.sshEnv.HOME!, '.ssh/known_hosts'), path.join(home, '.ssh/known_hosts'));
    await promisify(execFile)('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(home, '.ssh/id_ed25519')]);
    const stranger = await repo.run('apply', [], { HOME: home, SSH_AUTH_SOCK: '' });
    expect(stranger.code).toBe(2);
    expect(stranger.stderr).toContain(`ssh to ${engine.sshUrl} refused every key offered`);
    const noAgent = await repo.run('apply', [], { ...engine.sshEnv, SSH_AUTH_SOCK: path.join(repo.dir, 'no-agent.sock') });
    expect(noAgent.code).toBe(2);
    expect(noAgent.stderr).toContain(`cannot reach the ssh-agent at SSH_AUTH_SOCK=${path.join(repo.dir, 'no-agent.sock')}`);
    expect(await containerOn(engine.docker, `${env}-web`)).toBeUndefined();
  });
});

describe('one daemon, two engines', () => {
  it('deploys, verifies and marks an environment on the second engine (TLS) and one on the main engine', async () => {
    const [remoteEnv, localEnv] = [newEnv('far'), newEnv('near')];
    const [remotePort, localPort] = [await freePort(), await freePort()];
    const server = await GitServer.start();
    cleanup.push(() => server.dispose());
    const envYaml = (env: string, target: string, port: number) => `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\n${target}${testsYaml(port)}`;
    const url = await server.createRepo('config', {
      [`environments/${remoteEnv}/environment.yaml`]: envYaml(remoteEnv, tlsTarget(), remotePort),
      [`environments/${remoteEnv}/web.yaml`]: webYaml(remotePort),
      [`environments/${localEnv}/environment.yaml`]: envYaml(localEnv, '', localPort),
      [`environments/${localEnv}/web.yaml`]: webYaml(localPort),
    });
    const daemon = await DaemonProcess.start(['--repo', url, '--interval', '500ms']);
    cleanup.push(() => daemon.dispose());
    for (const env of [remoteEnv, localEnv]) {
      const st = await daemon.waitFor(env, (e) => e.lastMarker?.result === 'passed', `${env}'s passing marker`, 90_000);
      expect(st.lastMarker).toMatchObject({ result: 'passed', tests: 'passed 2/2 tests' });
    }
    expect((await containerOn(engine.docker, `${remoteEnv}-web`))?.State.Running).toBe(true);
    expect(await containerOn(main, `${remoteEnv}-web`)).toBeUndefined();
    expect((await containerOn(main, `${localEnv}-web`))?.State.Running).toBe(true);
    expect(await containerOn(engine.docker, `${localEnv}-web`)).toBeUndefined();

    const user = await UserClone.of(url);
    cleanup.push(() => user.dispose());
    for (const env of [remoteEnv, localEnv]) {
      const marker = parse(await git(user.dir, 'show', `HEAD:promotions/${env}.yaml`)) as { result: string; services: Record<string, { image: string }>; tests: { result: string }[] };
      expect(marker).toMatchObject({ result: 'passed', services: { web: { image } } });
      expect(marker.tests.map((t) => t.result)).toEqual(['passed', 'passed']);
    }
  }, 180_000);
});

describe('the edge proxy on a remote engine', () => {
  // This engine runs with --iptables=false and no masquerading: published ports go through docker-proxy, and
  // Docker's DNS cannot forward unknown names (the idle colour) to the host's resolver.
  it('over TLS: the proxy image is copied from the main engine, and a replace drops no request under a steady loop', async () => {
    await engine.docker.getImage(edgeImage).remove().catch(() => undefined); // the second engine is ours: start without the image
    const env = newEnv('edgetls');
    const port = await freePort();
    const repo = await ConfigRepo.create(env, tlsTarget());
    cleanup.push(() => repo.dispose());
    await repo.write('web.yaml', webService(versioned('v1'), port));
    const created = await repo.run('apply');
    expect(created.stdout).toContain(`the edge proxy image ${edgeImage} is not on ${engine.tcpUrl} and cannot be pulled there`);
    expect(created.stdout).toContain(`copying it from the local engine unix:///var/run/docker.sock`);
    expect(created.code).toBe(0);
    const [local, copied] = await Promise.all([main.getImage(edgeImage).inspect(), engine.docker.getImage(edgeImage).inspect()]);
    expect(copied.Id).toBe(local.Id);
    const proxy = await containerOn(engine.docker, `${env}-web.edge`);
    expect(proxy?.State.Running).toBe(true);
    expect(proxy?.HostConfig.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] });
    expect(await containerOn(main, `${env}-web.edge`)).toBeUndefined();
    expect((await httpGet(`http://127.0.0.1:${port}/`)).body).toBe('version 1\n');

    const loop = requestLoop(`http://127.0.0.1:${port}/`);
    await repo.write('web.yaml', webService(versioned('v2'), port));
    const replaced = await repo.run('apply');
    const report = await loop.stop();
    expect(replaced.stdout).toContain('edge proxy: switching web to green');
    expect(replaced.code).toBe(0);
    expect(report.failures).toEqual([]);
    expect(report.answers.length).toBeGreaterThan(50);
    expect(report.answers).toContain('200 version 1');
    expect(report.answers.at(-1)).toBe('200 version 2');
    expect((await containerOn(engine.docker, `${env}-web`))?.Config.Labels['io.stagecoach.edge-color']).toBe('green');
  }, 120_000);

  it('over ssh: a replace drops no request under a steady loop', async () => {
    const env = newEnv('edgessh');
    const port = await freePort();
    const repo = await ConfigRepo.create(env, `target:\n  docker: ${engine.sshUrl}\n`);
    cleanup.push(() => repo.dispose());
    await repo.write('web.yaml', webService(versioned('v1'), port));
    const created = await repo.run('apply', [], engine.sshEnv);
    expect(created.code).toBe(0);
    expect((await containerOn(engine.docker, `${env}-web.edge`))?.State.Running).toBe(true);
    const loop = requestLoop(`http://127.0.0.1:${port}/`);
    await repo.write('web.yaml', webService(versioned('v3'), port));
    const replaced = await repo.run('apply', [], engine.sshEnv);
    const report = await loop.stop();
    expect(replaced.code).toBe(0);
    expect(report.failures).toEqual([]);
    expect(report.answers).toContain('200 version 1');
    expect(report.answers.at(-1)).toBe('200 version 3');
  }, 180_000); // every Engine API call is an ssh channel and a remote `docker system dial-stdio`: a switch's exec polls add up
});

function stagecoachVerify(repo: ConfigRepo, env: string, extra: Record<string, string> = {}) {
  return stagecoach(['verify', '--env', env, '--repo', repo.dir], { env: extra });
}
