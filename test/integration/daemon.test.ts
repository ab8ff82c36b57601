import { createHmac } from 'node:crypto';
import type Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess } from './helpers/daemon.js';
import { buildTestImage, httpGet, removeByLabel, requireDocker, TEST_LABEL, uniqueName, waitFor } from './helpers/docker.js';
import { git, GitServer, UserClone } from './helpers/git.js';

const run = uniqueName('daemon');
const image = (tag: string) => `stagecoach-test/${run}:${tag}`;
let docker: Docker;
let server: GitServer;
const cleanup: (() => Promise<void>)[] = [];
const envs: string[] = [];

beforeAll(async () => {
  docker = await requireDocker();
  const labels = { [TEST_LABEL]: run };
  const cmd = ['httpd', '-f', '-p', '8080', '-h', '/www'];
  await buildTestImage(docker, image('v1'), { files: { '/www/index.html': 'version 1\n' }, cmd, labels });
  await buildTestImage(docker, image('v2'), { files: { '/www/index.html': 'version 2\n' }, cmd, labels });
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

const environmentYaml = (env: string) => `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\n`;
const webYaml = (tag: string, extra = '') =>
  `apiVersion: stagecoach/v1\nkind: Service\nname: web\nimage: ${image(tag)}\ninit: true\nports: ["127.0.0.1::8080"]\nstop_grace_period: 1s\n` +
  `healthcheck:\n  test: ["CMD-SHELL", "nc 127.0.0.1 8080 </dev/null"]\n  interval: 1s\n  timeout: 1s\n  retries: 2\n${extra}`;

/** A fresh environment in a fresh repo on the git server, its user clone, and a daemon following it. */
async function setup(options: { interval?: string; env?: Record<string, string>; web?: string } = {}) {
  const env = uniqueName('d').replace(/-/g, '');
  envs.push(env);
  const url = await server.createRepo(env, { [`environments/${env}/environment.yaml`]: environmentYaml(env), [`environments/${env}/web.yaml`]: options.web ?? webYaml('v1') });
  const user = await UserClone.of(url);
  cleanup.push(() => user.dispose());
  const daemon = await DaemonProcess.start(['--repo', url, '--interval', options.interval ?? '300ms'], options.env ?? {});
  cleanup.push(() => daemon.dispose());
  return { env, url, user, daemon };
}

async function answer(env: string): Promise<string> {
  const info = await docker.getContainer(`${env}-web`).inspect();
  const port = info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort;
  return (await httpGet(`http://127.0.0.1:${port}/`)).body.trim();
}

describe('the daemon follows a git remote', () => {
  it('deploys what a pushed commit asks for', async () => {
    const { env, user, daemon } = await setup();
    await daemon.waitFor(env, (e) => e.state === 'synced', 'the first revision to deploy');
    expect(await answer(env)).toBe('version 1');
    await user.write(`environments/${env}/web.yaml`, webYaml('v2'));
    const pushed = await user.push('web: version 2');
    const st = await daemon.waitFor(env, (e) => e.services[0]?.image === image('v2') && e.state === 'synced', 'the pushed revision to deploy');
    expect(st.decisions.some((d) => d.kind === 'deploy' && d.revision === pushed)).toBe(true);
    expect(st.services).toMatchObject([{ name: 'web', image: image('v2'), state: 'running', health: 'healthy', lastAction: { kind: 'replace', outcome: 'ok' } }]);
    expect(st.decisions.some((d) => d.kind === 'deploy' && d.reason.startsWith('replace web: spec changed: image'))).toBe(true);
    expect(await answer(env)).toBe('version 2');
    expect((await daemon.status()).ready).toBe(true);
  });

  it('keeps the last good revision when an invalid manifest is pushed, shows where, and deploys the fix', async () => {
    const { env, user, daemon } = await setup();
    const first = await daemon.waitFor(env, (e) => e.state === 'synced', 'the first revision to deploy');
    const good = first.revision.applied;
    await user.write(`environments/${env}/web.yaml`, webYaml('v2', 'deploy:\n  replicas: -1\n'));
    const bad = await user.push('web: broken replicas');
    const st = await daemon.waitFor(env, (e) => e.revision.desired === bad && e.state === 'invalid', 'the invalid revision to be reported');
    expect(st.errors).toEqual([`environments/${env}/web.yaml:14:13: /deploy/replicas must be >= 0 (got -1)`]);
    // Last good is the newest revision before the bad one (the daemon's own marker commit may sit in between).
    expect(st.revision.lastGood).toBe(st.revision.applied);
    expect(st.revision.applied).not.toBe(bad);
    await git(user.dir, 'merge-base', '--is-ancestor', good!, st.revision.applied!);
    await git(user.dir, 'merge-base', '--is-ancestor', st.revision.applied!, bad);
    expect(st.decisions[0]).toMatchObject({ kind: 'invalid', revision: bad });
    expect(await answer(env)).toBe('version 1');
    await user.write(`environments/${env}/web.yaml`, webYaml('v2'));
    const fixed = await user.push('web: fix replicas');
    const done = await daemon.waitFor(env, (e) => e.services[0]?.image === image('v2') && e.state === 'synced', 'the fix to deploy');
    expect(done.decisions.some((d) => d.kind === 'deploy' && d.revision === fixed)).toBe(true);
    expect(await answer(env)).toBe('version 2');
  });

  it('keeps running and serving status while the remote is down, and catches up when it returns', async () => {
    const { env, daemon } = await setup();
    const first = await daemon.waitFor(env, (e) => e.state === 'synced' && e.lastMarker !== null, 'the first revision to deploy and be marked');
    // Take the server down only once the daemon's own marker has landed, so the commit below is the newest.
    await waitFor(async () => ((await daemon.status()).remote.head === first.lastMarker?.commit ? true : undefined), { timeoutMs: 10_000, intervalMs: 100, what: 'the marker to reach the remote' });
    await server.down();
    await waitFor(async () => ((await daemon.status()).remote.error ? true : undefined), { timeoutMs: 20_000, intervalMs: 200, what: 'the remote error to show in status' });
    const whileDown = await daemon.status();
    expect(whileDown.remote.error).toMatch(/git (ls-remote|fetch) git:\/\/127\.0\.0\.1:\d+\/\w+\.git failed: .*Connection refused/);
    expect(whileDown.environments.find((e) => e.name === env)?.state).toBe('synced');
    expect(await answer(env)).toBe('version 1');
    // A commit lands on the remote while the daemon cannot see it.
    const work = await UserClone.of(server.path(env));
    await work.write(`environments/${env}/web.yaml`, webYaml('v2'));
    const pushed = await work.push('web: version 2 while the server is down');
    await work.dispose();
    await server.up();
    const caught = await daemon.waitFor(env, (e) => e.services[0]?.image === image('v2') && e.state === 'synced', 'the daemon to catch up');
    expect(caught.decisions.some((d) => d.kind === 'deploy' && d.revision === pushed)).toBe(true);
    expect((await daemon.status()).remote.error).toBeNull();
    expect(await answer(env)).toBe('version 2');
  });

  it('restarts a container stopped by hand, from the Docker event stream', async () => {
    const { env, daemon } = await setup({ interval: '1h' });
    await daemon.waitFor(env, (e) => e.state === 'synced', 'the first revision to deploy');
    await docker.getContainer(`${env}-web`).stop({ t: 1 });
    const st = await daemon.waitFor(env, (e) => e.decisions.some((d) => d.kind === 'heal') && e.services[0]?.state === 'running', 'the stopped container to be healed');
    expect(st.decisions.find((d) => d.kind === 'heal')?.reason).toMatch(/^restart web: stopped \(exited, exit code \d+\) \(trigger: .+\)$/);
    expect(await answer(env)).toBe('version 1');
  });

  it("skips the list call of a periodic drift check the engine's events vouch for, yet undoes a `docker update` made by hand", async () => {
    const { env, daemon } = await setup({ interval: '300ms' }); // a periodic drift check every 10 polls: ~3 s
    await daemon.waitFor(env, (e) => e.state === 'synced' && e.services[0]?.health === 'healthy', 'the first revision to deploy');
    const vouched = () => daemon.metric('stagecoach_periodic_drift_checks_total', `by="events"`);
    const listed = () => daemon.metric('stagecoach_periodic_drift_checks_total', `by="list"`);
    const lists = () => daemon.metric('stagecoach_docker_api_calls_total', 'operation="listContainers"');
    await waitFor(async () => ((await vouched()) >= 1 ? true : undefined), { timeoutMs: 60_000, intervalMs: 500, what: 'a periodic check vouched for by the event stream' });
    const before = { vouched: await vouched(), lists: await lists(), listed: await listed() };
    await waitFor(async () => ((await vouched()) >= before.vouched + 2 ? true : undefined), { timeoutMs: 60_000, intervalMs: 500, what: 'two more vouched checks' });
    expect(await lists()).toBe(before.lists); // nothing happened: not one list call
    // `docker update` is no drift event the daemon heals at once; its update event makes the next periodic check list.
    await docker.getContainer(`${env}-web`).update({ Memory: 64 * 1024 * 1024, MemorySwap: -1 });
    const st = await daemon.waitFor(env, (e) => e.state === 'synced' && e.services[0]?.lastAction?.kind === 'restart' && e.services[0]?.lastAction.outcome === 'ok', 'the memory limit set by hand to be undone');
    expect(st.decisions.find((d) => d.kind === 'heal')?.reason).toMatch(/^restart web: changed outside git: memory limit 67108864 \(spec: none\) \(trigger: poll \+ periodic drift check\)$/);
    expect((await docker.getContainer(`${env}-web`).inspect()).HostConfig.Memory).toBe(0);
    expect(await listed()).toBeGreaterThan(before.listed);
    expect(await answer(env)).toBe('version 1');
  });

  it('a tag moved by hand while the events vouch for the environment: its image event makes the next periodic check list, and the service is replaced', async () => {
    const cmd = ['httpd', '-f', '-p', '8080', '-h', '/www'];
    await buildTestImage(docker, image('m1'), { files: { '/www/index.html': 'moved 1\n' }, cmd, labels: { [TEST_LABEL]: run } });
    await buildTestImage(docker, image('m2'), { files: { '/www/index.html': 'moved 2\n' }, cmd, labels: { [TEST_LABEL]: run } });
    const { env, daemon } = await setup({ interval: '300ms', web: webYaml('m1') });
    await daemon.waitFor(env, (e) => e.state === 'synced' && e.services[0]?.health === 'healthy', 'the first revision to deploy');
    const vouched = () => daemon.metric('stagecoach_periodic_drift_checks_total', `by="events"`);
    await waitFor(async () => ((await vouched()) >= 2 ? true : undefined), { timeoutMs: 60_000, intervalMs: 500, what: 'periodic checks vouched for by the event stream' });
    await docker.getImage(image('m2')).tag({ repo: `stagecoach-test/${run}`, tag: 'm1' }); // the tag m1 now names m2's image
    const st = await daemon.waitFor(env, (e) => e.state === 'synced' && e.services[0]?.lastAction?.kind === 'replace' && e.services[0]?.lastAction.outcome === 'ok', 'the moved tag to be deployed');
    const moved = new RegExp(`^replace web: image ${image('m1').replace(/[/.]/g, '\\$&')} now resolves to sha256:`);
    expect(st.decisions.filter((d) => d.kind === 'deploy').map((d) => d.reason)).toContainEqual(expect.stringMatching(moved));
    expect(await answer(env)).toBe('moved 2');
  });

  it('SIGTERM during a rollout exits 0 with nothing half-applied, and the next start converges', async () => {
    const slow = (tag: string) => webYaml(tag).replace('interval: 1s', 'interval: 3s').replace('retries: 2', 'retries: 2\n  start_period: 1s');
    const { env, url, user, daemon } = await setup({ web: slow('v1') });
    await daemon.waitFor(env, (e) => e.state === 'synced', 'the first revision to deploy');
    await user.write(`environments/${env}/web.yaml`, slow('v2'));
    const pushed = await user.push('web: version 2, slowly');
    await daemon.waitFor(env, (e) => e.state === 'progressing', 'the rollout to start', 30_000);
    const ended = await daemon.stop('SIGTERM');
    expect(ended).toEqual({ code: 0, signal: null });
    expect(daemon.output).toContain('stagecoach: stopped');
    const left = await docker.listContainers({ all: true, filters: { label: [`io.stagecoach.environment=${env}`] } });
    expect(left.map((c) => c.Names[0])).toEqual([`/${env}-web`]);
    const again = await DaemonProcess.start(['--repo', url, '--interval', '300ms'], {}, { dataDir: daemon.dataDir });
    cleanup.push(() => again.dispose());
    const converged = await again.waitFor(env, (e) => e.services[0]?.image === image('v2') && e.state === 'synced', 'the restarted daemon to converge');
    expect(converged.revision.lastGood).not.toBeNull();
    expect(pushed).toMatch(/^[0-9a-f]{40}$/);
    expect(await answer(env)).toBe('version 2');
  });

  it('reacts to a commit in a local repository through the file watch, without polling', async () => {
    const env = uniqueName('w').replace(/-/g, '');
    envs.push(env);
    await server.createRepo(env, { [`environments/${env}/environment.yaml`]: environmentYaml(env), [`environments/${env}/web.yaml`]: webYaml('v1') });
    const daemon = await DaemonProcess.start(['--repo', server.path(env), '--interval', '1h']);
    cleanup.push(() => daemon.dispose());
    await daemon.waitFor(env, (e) => e.state === 'synced', 'the first revision to deploy');
    const user = await UserClone.of(server.path(env));
    cleanup.push(() => user.dispose());
    await user.write(`environments/${env}/web.yaml`, webYaml('v2'));
    const pushed = await user.push('web: version 2');
    const watched = await daemon.waitFor(env, (e) => e.services[0]?.image === image('v2'), 'the watched commit to deploy', 30_000);
    expect(watched.decisions.some((d) => d.revision === pushed)).toBe(true);
    // No polling (the interval is 1 h): one ls-remote at start, one per trigger since (the watched push, and each
    // marker the daemon pushed, which it looks at again). Polling at the default 30 s would add more on every poll.
    expect(await daemon.metric('stagecoach_git_remote_queries_total')).toBeLessThanOrEqual(6);
    expect(await answer(env)).toBe('version 2');
  });
});

describe('webhooks and the sync API', () => {
  const secret = "It's a Secret to Everybody";
  const payload = 'Hello, World!';
  const signature = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

  it('accepts GitHub’s published test vector and refuses forgeries without fetching', async () => {
    const { env, daemon } = await setup({ interval: '1h', env: { STAGECOACH_WEBHOOK_SECRET: secret, STAGECOACH_API_TOKEN: 'token-123' } });
    await daemon.waitFor(env, (e) => e.state === 'synced' && e.lastMarker !== null, 'the first revision to deploy and be marked');
    // The marker push triggers one more remote check; let it finish before counting.
    await waitFor(async () => ((await daemon.status()).remote.head === (await daemon.environment(env))?.lastMarker?.commit ? true : undefined), { timeoutMs: 10_000, intervalMs: 100, what: 'the daemon to see its own marker' });
    await new Promise((r) => setTimeout(r, 500));
    const queries = () => daemon.metric('stagecoach_git_remote_queries_total');
    const post = (path: string, body: string | Blob, headers: Record<string, string>) => fetch(`${daemon.base}${path}`, { method: 'POST', body, headers }).then(async (r) => ({ status: r.status, body: await r.text() }));
    const before = await queries();
    const refused = [
      await post('/hooks/github', 'Hello, World?', { 'x-hub-signature-256': signature }),
      await post('/hooks/github', payload, {}),
      await post('/hooks/github', '{"ref":"refs/heads/main","replayed":true}', { 'x-hub-signature-256': signature }),
      await post('/hooks/generic', payload, { 'x-signature': signature.replace('757', '758') }),
      await post('/hooks/gitlab', payload, { 'x-gitlab-token': 'guess' }),
      await post('/hooks/github', new Blob(['a'.repeat(2 * 1024 * 1024)]), { 'x-hub-signature-256': signature }),
      await post('/api/v1/sync', '', { authorization: 'Bearer wrong' }),
    ];
    expect(refused.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 413, 401]);
    expect(refused[0]!.body).toContain('X-Hub-Signature-256 does not match the body');
    expect(refused[1]!.body).toContain('missing X-Hub-Signature-256 header');
    await new Promise((r) => setTimeout(r, 500));
    expect(await queries()).toBe(before);

    const accepted = await post('/hooks/github', payload, { 'x-hub-signature-256': signature });
    expect(accepted.status).toBe(202);
    await waitFor(async () => ((await queries()) > before ? true : undefined), { timeoutMs: 10_000, intervalMs: 100, what: 'the accepted webhook to trigger a remote check' });

    const otherBranch = JSON.stringify({ ref: 'refs/heads/feature' });
    const ignored = await post('/hooks/gitea', otherBranch, { 'x-gitea-signature': createHmac('sha256', secret).update(otherBranch).digest('hex') });
    expect(ignored).toEqual({ status: 202, body: expect.stringContaining('push to branch feature, following main') });
    expect(await daemon.metric('stagecoach_webhook_requests_total', 'outcome="rejected"')).toBe(5);
    expect((await post('/api/v1/sync', '', { authorization: 'Bearer token-123' })).status).toBe(202);
  });
});

describe('npm start', () => {
  it('deploys the bundled example and reaches "all environments in sync"', async () => {
    for (const env of ['testing', 'staging', 'production']) await removeByLabel(docker, 'io.stagecoach.environment', env);
    const daemon = await DaemonProcess.start([], { STAGECOACH_LOG_LEVEL: 'warn' }, { command: ['npm', 'start', '--silent'], group: true });
    cleanup.push(async () => {
      await daemon.dispose();
      for (const env of ['testing', 'staging', 'production']) await removeByLabel(docker, 'io.stagecoach.environment', env);
    });
    await waitFor(async () => (daemon.output.includes('stagecoach: all environments in sync') ? true : undefined), { timeoutMs: 90_000, intervalMs: 250, what: `"all environments in sync" (output:\n${daemon.output})` });
    expect(daemon.output).toContain('following the bundled example');
    expect((await httpGet('http://127.0.0.1:18081/')).body).toBe('hello from stagecoach (staging)\n');
    const log = () => git(daemon.dataDir, '--git-dir', 'example.git', 'log', '--reverse', '--format=%s');
    await waitFor(async () => ((await log()).split('\n').length >= 4 ? true : undefined), { timeoutMs: 30_000, intervalMs: 250, what: 'a marker from each environment' });
    const seeded = (await log()).split('\n');
    expect(seeded[0]).toBe('Seed the bundled example environments');
    expect(seeded.slice(1).sort()).toEqual([expect.stringMatching(/^production: passed 1\/1 tests at [0-9a-f]{7}$/), expect.stringMatching(/^staging: passed 1\/1 tests at [0-9a-f]{7}$/), expect.stringMatching(/^testing: passed 2\/2 tests at [0-9a-f]{7}$/)]);
    await daemon.stop('SIGTERM');
    await waitFor(async () => (daemon.output.includes('stagecoach: stopped') ? true : undefined), { timeoutMs: 15_000, intervalMs: 100, what: 'the daemon to stop cleanly' });
  });
});
