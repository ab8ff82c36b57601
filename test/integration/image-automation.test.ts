// Image automation end to end: a real registry (Debian's docker-registry),
// images pushed by the engine, a real git remote, and the daemon as a user
// runs it. New builds enter the pipeline by themselves.
import type Docker from 'dockerode';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ImageStatus } from '../../src/images/automation.js';
import { stagecoach } from './helpers/cli.js';
import { DaemonProcess } from './helpers/daemon.js';
import { buildTestImage, freePort, removeByLabel, requireDocker, TEST_LABEL, uniqueName, waitFor } from './helpers/docker.js';
import { git, GitServer, UserClone } from './helpers/git.js';
import { LocalRegistry } from './helpers/registry.js';

const run = uniqueName('imgauto');
const local = (tag: string) => `stagecoach-test/${run}:${tag}`;
let docker: Docker;
let server: GitServer;
let registry: LocalRegistry;
let locked: LocalRegistry;
let scratch: string;
const cleanup: (() => Promise<void>)[] = [];
const envs: string[] = [];

beforeAll(async () => {
  docker = await requireDocker();
  const cmd = ['httpd', '-f', '-p', '8080', '-h', '/www'];
  for (const [tag, text] of [['v1', 'version 1'], ['v2', 'version 2'], ['v3', 'version 3']] as const) {
    await buildTestImage(docker, local(tag), { files: { '/www/index.html': `${text}\n` }, cmd, labels: { [TEST_LABEL]: run } });
  }
  [server, registry, locked] = await Promise.all([GitServer.start(), LocalRegistry.start('none'), LocalRegistry.start('basic')]);
  scratch = await mkdtemp(path.join(tmpdir(), 'stagecoach-imgauto-'));
}, 120_000);

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  for (const env of envs.splice(0)) await removeByLabel(docker, 'io.stagecoach.environment', env);
});

afterAll(async () => {
  await server?.dispose();
  await Promise.all([registry, locked].filter(Boolean).map((r) => r.stop()));
  // Images pulled from the test registries: every tag under their hosts.
  for (const img of await docker.listImages()) {
    for (const tag of img.RepoTags ?? []) if ([registry?.host, locked?.host].some((h) => h && tag.startsWith(`${h}/`))) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
  }
  await removeByLabel(docker, TEST_LABEL, run, { images: true });
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const name = (prefix: string) => {
  const env = `${prefix}${uniqueName('x').slice(2).replace(/-/g, '')}`;
  envs.push(env);
  return env;
};

const web = (image: string, port: number, policy = '') =>
  `# the shop front\napiVersion: stagecoach/v1\nkind: Service\nname: web\nimage: ${image}   # moved by image automation\ninit: true\nports: ["127.0.0.1:${port}:8080"]\nstop_grace_period: 1s\n` +
  `healthcheck:\n  test: ["CMD-SHELL", "nc 127.0.0.1 8080 </dev/null"]\n  interval: 1s\n  timeout: 1s\n  retries: 2\n${policy}`;

const envYaml = (env: string, port: number, extra = '') =>
  `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\ntests:\n  - name: homepage answers\n    http:\n      url: http://127.0.0.1:${port}/\n      expect: { status: 200, body: "version" }\n    retries: 3\n    delay: 500ms\n${extra}`;

async function startDaemon(url: string, env: Record<string, string> = {}): Promise<DaemonProcess> {
  const daemon = await DaemonProcess.start(['--repo', url, '--interval', '500ms'], { DOCKER_CONFIG: path.join(scratch, 'no-docker-config'), ...env });
  cleanup.push(() => daemon.dispose());
  return daemon;
}

async function clone(url: string): Promise<UserClone> {
  const user = await UserClone.of(url);
  cleanup.push(() => user.dispose());
  return user;
}

async function imagesOf(daemon: DaemonProcess): Promise<ImageStatus[]> {
  return (await daemon.status()).images ?? [];
}

async function waitForImage(daemon: DaemonProcess, ok: (s: ImageStatus) => boolean, what: string): Promise<ImageStatus> {
  let last: ImageStatus[] = [];
  try {
    return await waitFor(async () => {
      last = await imagesOf(daemon);
      return last.find(ok);
    }, { timeoutMs: 60_000, intervalMs: 200, what });
  } catch (error) {
    throw new Error(`${(error as Error).message}\nlast image status: ${JSON.stringify(last, null, 2)}\ndaemon output:\n${daemon.output.slice(-3000)}`);
  }
}

async function runningImage(env: string, service: string): Promise<string | undefined> {
  const [c] = await docker.listContainers({ filters: { label: [`io.stagecoach.environment=${env}`, `io.stagecoach.service=${service}`] } });
  return c ? (await docker.getContainer(c.Id).inspect()).Config.Image : undefined;
}

async function remoteLog(user: UserClone, ref = 'origin/main'): Promise<string[]> {
  await git(user.dir, 'fetch', '-q', 'origin', '+refs/heads/*:refs/remotes/origin/*');
  return (await git(user.dir, 'log', '--format=%s', ref)).split('\n');
}

describe('a newer allowed tag enters the pipeline by itself', () => {
  it('commits the bump within one poll, deploys, tests, marks and proposes it onward; 2.0.0 outside ^1 is ignored', async () => {
    const [testing, staging] = [name('it'), name('is')];
    const [tp, sp] = [await freePort(), await freePort()];
    const app = (tag: string) => `${registry.host}/${run}:${tag}`;
    await registry.push(docker, `${run}:1.0.0`, local('v1'));
    await registry.push(docker, `${run}:2.0.0`, local('v3'));
    const url = await server.createRepo(`img-${testing}`, {
      [`environments/${testing}/environment.yaml`]: envYaml(testing, tp),
      [`environments/${testing}/web.yaml`]: web(app('1.0.0'), tp, 'imagePolicy:\n  semver: "^1"\n'),
      [`environments/${staging}/environment.yaml`]: envYaml(staging, sp, `promotion:\n  from: ${testing}\n`),
      [`environments/${staging}/web.yaml`]: web(app('1.0.0'), sp),
    });
    const user = await clone(url);
    const daemon = await startDaemon(url);
    await daemon.waitFor(testing, (e) => e.lastMarker?.result === 'passed' && e.state === 'synced', 'testing verified on 1.0.0');
    const before = await waitForImage(daemon, (s) => s.environment === testing && s.lastCheck !== null, 'a first registry check');
    expect(before).toMatchObject({ service: 'web', current: app('1.0.0'), newestAllowed: app('1.0.0'), policy: 'semver ^1', lastError: null });

    // CI pushes a new build.
    const pushed = await registry.push(docker, `${run}:1.0.1`, local('v2'));
    const pushedAt = Date.now();
    await waitForImage(daemon, (s) => s.environment === testing && s.lastUpdate?.to === app('1.0.1'), 'the bump commit');
    const bumpedAt = Date.now();
    const log = await remoteLog(user);
    expect(log).toContain(`${testing}: update web to ${app('1.0.1')}`);
    const bump = await git(user.dir, 'log', '-1', '--format=%B', `--grep=^${testing}: update web`, 'origin/main');
    expect(bump).toContain(`Stagecoach-Update-Image: web ${app('1.0.0')} -> ${app('1.0.1')}`);
    expect(bump).toContain('Stagecoach-Update-Policy: web semver ^1');
    const file = await git(user.dir, 'show', `origin/main:environments/${testing}/web.yaml`);
    expect(file).toBe(web(app('1.0.1'), tp, 'imagePolicy:\n  semver: "^1"\n').trimEnd());
    expect(await git(user.dir, 'show', '--stat', '--format=', `--grep=^${testing}: update web`, 'origin/main')).toMatch(/1 file changed, 1 insertion\(\+\), 1 deletion\(-\)/);

    // Deployed, tested, marked, proposed to staging.
    await daemon.waitFor(testing, (e) => e.lastMarker?.result === 'passed' && e.services.some((s) => s.image === app('1.0.1')), 'testing verified on 1.0.1');
    // Reported, not asserted (no timed tests): how long a new build takes to enter the pipeline here.
    console.info(`image automation (poll 500 ms): push → bump commit ${bumpedAt - pushedAt} ms, push → deployed and verified ${Date.now() - pushedAt} ms`);
    expect(await runningImage(testing, 'web')).toBe(app('1.0.1'));
    const runningDigest = (await docker.getImage(app('1.0.1')).inspect()).RepoDigests;
    expect(runningDigest).toContain(`${registry.host}/${run}@${pushed}`);
    await waitFor(async () => (await git(user.dir, 'ls-remote', 'origin', `refs/heads/stagecoach/promote/${staging}`)) || undefined, { timeoutMs: 30_000, what: 'the proposal for staging' });
    await git(user.dir, 'fetch', '-q', 'origin', `+refs/heads/stagecoach/promote/${staging}:refs/remotes/origin/proposal`);
    expect(await git(user.dir, 'show', `origin/proposal:environments/${staging}/web.yaml`)).toContain(`image: ${app('1.0.1')}`);

    // 2.0.0 is outside ^1: never committed.
    const after = await waitForImage(daemon, (s) => s.environment === testing && s.current === app('1.0.1'), 'status on 1.0.1');
    expect(after.newestAllowed).toBe(app('1.0.1'));
    expect((await remoteLog(user)).filter((s) => s.includes('2.0.0'))).toEqual([]);
    expect((await remoteLog(user)).filter((s) => s.startsWith(`${testing}: update web`))).toHaveLength(1);
  }, 180_000);
});

describe('digest pinning of a mutable tag', () => {
  it('pins latest, and a re-pushed latest produces a new digest-pin commit', async () => {
    const env = name('ip');
    const port = await freePort();
    const latest = `${registry.host}/${run}-pin:latest`;
    const first = await registry.push(docker, `${run}-pin:latest`, local('v1'));
    const url = await server.createRepo(`pin-${env}`, {
      [`environments/${env}/environment.yaml`]: envYaml(env, port),
      [`environments/${env}/web.yaml`]: web(latest, port, 'imagePolicy:\n  pin: digest\n'),
    });
    const user = await clone(url);
    const daemon = await startDaemon(url);
    await waitForImage(daemon, (s) => s.lastUpdate?.to === `${latest}@${first}`, 'the first pin');
    await daemon.waitFor(env, (e) => e.lastMarker?.result === 'passed' && e.services.some((s) => s.image === `${latest}@${first}`), 'pinned image verified');
    const second = await registry.push(docker, `${run}-pin:latest`, local('v2'));
    expect(second).not.toBe(first);
    await waitForImage(daemon, (s) => s.lastUpdate?.to === `${latest}@${second}`, 'the re-pin after latest moved');
    await git(user.dir, 'fetch', '-q');
    expect(await git(user.dir, 'show', `origin/main:environments/${env}/web.yaml`)).toContain(`image: ${latest}@${second}   # moved by image automation`);
    const subjects = (await remoteLog(user)).filter((s) => s.startsWith(`${env}: update web`));
    expect(subjects).toEqual([`${env}: update web to ${latest}@${second}`, `${env}: update web to ${latest}@${first}`]);
    await daemon.waitFor(env, (e) => e.services.some((s) => s.image === `${latest}@${second}` && s.state === 'running'), 'the new digest running');
  }, 180_000);
});

describe('credentials', () => {
  it('a wrong password leaves a clear status and no commit', async () => {
    const env = name('iw');
    const port = await freePort();
    const app = (tag: string) => `${locked.host}/${run}:${tag}`;
    await locked.push(docker, `${run}:1.0.0`, local('v1'));
    await locked.push(docker, `${run}:1.0.1`, local('v2'));
    // The deploy itself is not under test here: the image is already on the engine.
    await docker.getImage(local('v1')).tag({ repo: `${locked.host}/${run}`, tag: '1.0.0' });
    const configDir = path.join(scratch, uniqueName('docker-config'));
    await (await import('node:fs/promises')).mkdir(configDir);
    await writeFile(path.join(configDir, 'config.json'), JSON.stringify({ auths: { [locked.host]: { auth: Buffer.from(`${locked.user.username}:not-the-password`).toString('base64') } } }));
    const url = await server.createRepo(`cred-${env}`, {
      [`environments/${env}/environment.yaml`]: envYaml(env, port),
      [`environments/${env}/web.yaml`]: web(app('1.0.0'), port, 'imagePolicy:\n  semver: "^1"\n'),
    });
    const user = await clone(url);
    const daemon = await startDaemon(url, { DOCKER_CONFIG: configDir });
    const st = await waitForImage(daemon, (s) => s.lastError !== null, 'the registry error in status');
    expect(st.lastError).toBe(`registry ${locked.host}, repository ${run}: cannot list tags: the registry refused the credentials from auths["${locked.host}"] (401); run \`docker login ${locked.host}\` on the daemon host`);
    expect(st.newestAllowed).toBeNull();
    expect(JSON.stringify(await daemon.status())).not.toContain('not-the-password');
    const text = await stagecoach(['status', '--url', daemon.base]);
    expect(text.stdout).toContain(`${env}/web: ${app('1.0.0')}  [semver ^1]`);
    expect(text.stdout).toContain('refused the credentials');
    await daemon.waitFor(env, (e) => e.lastMarker !== null, 'the environment itself deployed');
    expect((await remoteLog(user)).filter((s) => s.includes('update web'))).toEqual([]);
  }, 120_000);
});

describe('stagecoach set-image from CI', () => {
  it('lands on a remote that moved after the CI clone was made, and exits 0', async () => {
    const env = name('ic');
    const url = await server.createRepo(`ci-${env}`, {
      [`environments/${env}/environment.yaml`]: envYaml(env, 18999),
      [`environments/${env}/web.yaml`]: web(`${registry.host}/${run}:1.0.0`, 18999),
    });
    const ci = await clone(url);
    await git(ci.dir, 'checkout', '-q', '--detach');
    const person = await clone(url);
    await writeFile(path.join(person.dir, 'README.md'), 'notes\n');
    await git(person.dir, 'add', 'README.md');
    await git(person.dir, 'commit', '-q', '-m', 'a person commits meanwhile');
    await git(person.dir, 'push', '-q', 'origin', 'main');
    const result = await stagecoach(['set-image', '--env', env, `web=${registry.host}/${run}:1.0.1`], { cwd: ci.dir, env: { GIT_AUTHOR_NAME: 'CI', GIT_AUTHOR_EMAIL: 'ci@example.com', GIT_COMMITTER_NAME: 'CI', GIT_COMMITTER_EMAIL: 'ci@example.com' } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^committed [0-9a-f]{7} to main: web ${registry.host}/${run}:1\\.0\\.0 → ${registry.host}/${run}:1\\.0\\.1\\n$`));
    expect(await remoteLog(person)).toEqual([`${env}: update web to ${registry.host}/${run}:1.0.1`, 'a person commits meanwhile', expect.any(String)]);
    const bad = await stagecoach(['set-image', '--env', env, 'web=Not A Ref'], { cwd: ci.dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('web: image "Not A Ref" contains whitespace');
  }, 60_000);
});
