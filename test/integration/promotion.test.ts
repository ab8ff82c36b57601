import type Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { stagecoach } from './helpers/cli.js';
import { DaemonProcess } from './helpers/daemon.js';
import { buildTestImage, freePort, httpGet, removeByLabel, requireDocker, TEST_LABEL, uniqueName, waitFor } from './helpers/docker.js';
import { git, GitServer, UserClone } from './helpers/git.js';

const run = uniqueName('promo');
const image = (tag: string) => `stagecoach-test/${run}:${tag}`;
let docker: Docker;
let server: GitServer;
const cleanup: (() => Promise<void>)[] = [];
const envs: string[] = [];

beforeAll(async () => {
  docker = await requireDocker();
  const labels = { [TEST_LABEL]: run };
  const cmd = ['httpd', '-f', '-p', '8080', '-h', '/www'];
  for (const [tag, text] of [['v1', 'version 1'], ['v2', 'version 2'], ['v3', 'version 3'], ['wrong', 'oops']]) {
    await buildTestImage(docker, image(tag!), { files: { '/www/index.html': `${text}\n` }, cmd, labels });
  }
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

const name = (prefix: string) => {
  const env = `${prefix}${uniqueName('x').slice(2).replace(/-/g, '')}`;
  envs.push(env);
  return env;
};

const web = (tag: string, port: number) =>
  `apiVersion: stagecoach/v1\nkind: Service\nname: web\nimage: ${image(tag)}\ninit: true\nports: ["127.0.0.1:${port}:8080"]\nstop_grace_period: 1s\n` +
  `healthcheck:\n  test: ["CMD-SHELL", "nc 127.0.0.1 8080 </dev/null"]\n  interval: 1s\n  timeout: 1s\n  retries: 2\n`;

const envYaml = (env: string, port: number, extra = '') =>
  `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\ntests:\n  - name: homepage answers\n    http:\n      url: http://127.0.0.1:${port}/\n      expect: { status: 200, body: "version" }\n    retries: 3\n    delay: 500ms\n${extra}`;

async function startDaemon(url: string, args: string[] = []): Promise<DaemonProcess> {
  const daemon = await DaemonProcess.start(['--repo', url, '--interval', '300ms', ...args]);
  cleanup.push(() => daemon.dispose());
  return daemon;
}

async function clone(url: string): Promise<UserClone> {
  const user = await UserClone.of(url);
  cleanup.push(() => user.dispose());
  return user;
}

/** The marker file and its commit as they are on the remote. */
async function remoteMarker(user: UserClone, env: string) {
  await git(user.dir, 'pull', '-q', '--rebase');
  const yaml = await git(user.dir, 'show', `HEAD:promotions/${env}.yaml`);
  const log = await git(user.dir, 'log', '-1', '--format=%s%n%(trailers:only,unfold)', '--', `promotions/${env}.yaml`);
  return { yaml, log };
}

describe('verification writes a marker a person can read', () => {
  it('records passing and failing http, container and exec tests with their reasons', async () => {
    const env = name('v');
    const port = await freePort();
    const tests = [
      '  - name: wrong body',
      '    http:',
      `      url: http://127.0.0.1:${port}/`,
      '      expect: { status: 200, body: "version 9" }',
      '  - name: e2e reaches web by name',
      '    container:',
      `      image: ${image('v1')}`,
      '      command: ["sh", "-c", "nc web 8080 </dev/null && echo reached web"]',
      '  - name: e2e that fails',
      '    container:',
      `      image: ${image('v1')}`,
      '      command: ["sh", "-c", "echo checkout broken; exit 3"]',
      '  - name: web serves its page file',
      '    exec: { service: web, command: ["test", "-f", "/www/index.html"] }',
      '',
    ].join('\n');
    const url = await server.createRepo(env, { [`environments/${env}/environment.yaml`]: envYaml(env, port, tests), [`environments/${env}/web.yaml`]: web('v1', port) });
    const user = await clone(url);
    const daemon = await startDaemon(url);
    const st = await daemon.waitFor(env, (e) => e.lastMarker !== null, 'the first marker');
    expect(st.lastMarker).toMatchObject({ result: 'failed', tests: 'failed 3/5 tests' });
    const { yaml, log } = await remoteMarker(user, env);
    expect(log.split('\n')[0]).toMatch(new RegExp(`^${env}: failed 3/5 tests at [0-9a-f]{7}$`));
    expect(log).toContain(`Stagecoach-Environment: ${env}`);
    expect(log).toContain('Stagecoach-Result: failed');
    expect(log).toContain(`Stagecoach-Image: web ${image('v1')}`);
    expect(yaml).toContain('kind: PromotionMarker');
    expect(yaml).toContain(`image: ${image('v1')}`);
    const marker = parse(yaml) as { tests: { name: string; result: string; message: string }[] };
    expect(marker.tests.map((t) => [t.name, t.result, t.message])).toEqual([
      ['homepage answers', 'passed', `200 from GET http://127.0.0.1:${port}/`],
      ['wrong body', 'failed', `expected the body to contain "version 9" from GET http://127.0.0.1:${port}/; it differed, beginning "version 1"`],
      ['e2e reaches web by name', 'passed', `${image('v1')} exited 0`],
      ['e2e that fails', 'failed', `${image('v1')} exited with code 3`],
      ['web serves its page file', 'passed', `"test -f /www/index.html" in ${env}-web exited 0`],
    ]);
    const leftovers = await docker.listContainers({ all: true, filters: { label: ['io.stagecoach.test-run'] } });
    expect(leftovers.filter((c) => c.Labels['io.stagecoach.environment'] === env)).toEqual([]);
  });
});

describe('the pipeline: testing proves, staging takes only what was proven', () => {
  async function pipeline() {
    const testing = name('t');
    const staging = name('s');
    const [tp, sp] = [await freePort(), await freePort()];
    const repo = `pipe-${testing}`;
    const url = await server.createRepo(repo, {
      [`environments/${testing}/environment.yaml`]: envYaml(testing, tp),
      [`environments/${testing}/web.yaml`]: web('v1', tp),
      [`environments/${staging}/environment.yaml`]: envYaml(staging, sp, `promotion:\n  from: ${testing}\n  auto: branch\n`),
      [`environments/${staging}/web.yaml`]: web('v1', sp),
    });
    const user = await clone(url);
    const daemon = await startDaemon(url);
    await daemon.waitFor(staging, (e) => e.state === 'synced' && e.lastMarker?.result === 'passed', 'staging to take v1 after testing proved it', 90_000);
    return { testing, staging, tp, sp, url, user, daemon };
  }

  it('a new tag deploys to testing, passes, is proposed to staging; a person merges and staging deploys it with its own marker', async () => {
    const { testing, staging, sp, tp, user, daemon } = await pipeline();
    await git(user.dir, 'pull', '-q', '--rebase');
    await user.write(`environments/${testing}/web.yaml`, web('v2', tp));
    await user.push(`${testing}: web version 2`);
    const proposed = await daemon.waitFor(staging, (e) => e.proposals.length > 0, 'a staging proposal', 60_000);
    expect(proposed.proposals[0]).toMatchObject({ branch: `stagecoach/promote/${staging}`, images: [`web=${image('v2')}`] });
    expect((await httpGet(`http://127.0.0.1:${sp}/`)).body).toBe('version 1\n');

    const markedBefore = (await daemon.environment(staging))?.lastMarker?.commit;
    await git(user.dir, 'fetch', '-q', 'origin');
    const branchLog = await git(user.dir, 'log', '--format=%s', `origin/main..origin/stagecoach/promote/${staging}`);
    expect(branchLog).toBe(`promote ${staging}: web ${image('v2')}`);
    const changed = await git(user.dir, 'diff', '--name-only', `origin/main...origin/stagecoach/promote/${staging}`);
    expect(changed).toBe(`environments/${staging}/web.yaml`);
    await git(user.dir, 'pull', '-q', '--rebase');
    await git(user.dir, 'merge', '-q', '--no-ff', '-m', `Merge promotion of ${staging}`, `origin/stagecoach/promote/${staging}`);
    for (let attempt = 1; ; attempt++) {
      // A marker of the daemon's may land first: pull again, keeping the merge, as a person would.
      const pushed = await git(user.dir, 'push', '-q', 'origin', 'HEAD:main').then(() => true, () => false);
      if (pushed) break;
      if (attempt === 5) throw new Error('could not push the merge');
      await git(user.dir, 'pull', '-q', '--rebase=merges');
    }
    await daemon.waitFor(staging, (e) => e.services[0]?.image === image('v2') && e.lastMarker?.result === 'passed' && e.lastMarker.commit !== markedBefore && e.state === 'synced', 'staging to deploy the merged promotion and mark it', 60_000);
    expect((await httpGet(`http://127.0.0.1:${sp}/`)).body).toBe('version 2\n');

    await git(user.dir, 'pull', '-q', '--rebase');
    const audit = await git(user.dir, 'log', '--format=%s%n%(trailers:key=Stagecoach-Result)', '--', 'promotions/');
    const subjects = audit.split('\n').filter((l) => / tests at /.test(l));
    expect(subjects.filter((s) => s.startsWith(`${testing}: passed`)).length).toBeGreaterThanOrEqual(2);
    expect(subjects.filter((s) => s.startsWith(`${staging}: passed`)).length).toBeGreaterThanOrEqual(2);
    expect(audit).toContain('Stagecoach-Result: passed');
  });

  it('an unverified image pushed straight into staging is blocked and named; staging keeps its containers', async () => {
    const { staging, sp, user, daemon } = await pipeline();
    const before = (await docker.getContainer(`${staging}-web`).inspect()).Id;
    await git(user.dir, 'pull', '-q', '--rebase');
    await user.write(`environments/${staging}/web.yaml`, web('v3', sp));
    const pushed = await user.push(`${staging}: web version 3 without testing`);
    const st = await daemon.waitFor(staging, (e) => e.state === 'blocked' && e.revision.desired === pushed, 'staging to be blocked', 30_000);
    expect(st.blocked).toEqual([expect.stringMatching(new RegExp(`^image ${image('v3').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} of service web has no passing marker in t\\w+ \\(t\\w+'s latest marker: passed at [0-9a-f]{7} with web=`))]);
    expect(st.decisions[0]?.kind).toBe('block');
    expect((await docker.getContainer(`${staging}-web`).inspect()).Id).toBe(before);
    expect((await httpGet(`http://127.0.0.1:${sp}/`)).body).toBe('version 1\n');
    const status = await stagecoach(['status', '--url', daemon.base]);
    expect(status.stdout).toContain(`blocked: image ${image('v3')} of service web has no passing marker`);
  });

  it('a failing test in testing gives a failed marker and no proposal; staging is unchanged', async () => {
    const { testing, staging, tp, sp, user, daemon } = await pipeline();
    await git(user.dir, 'pull', '-q', '--rebase');
    await user.write(`environments/${testing}/web.yaml`, web('wrong', tp));
    const pushed = await user.push(`${testing}: web that answers oops`);
    const st = await daemon.waitFor(testing, (e) => e.lastMarker?.revision === pushed, 'the failed marker', 60_000);
    expect(st.lastMarker).toMatchObject({ result: 'failed', tests: 'failed 0/1 tests' });
    await git(user.dir, 'fetch', '-q', 'origin');
    const branches = await git(user.dir, 'branch', '-r');
    expect(branches).not.toContain(`stagecoach/promote/${staging}`);
    expect((await daemon.environment(staging))?.proposals).toEqual([]);
    expect((await httpGet(`http://127.0.0.1:${sp}/`)).body).toBe('version 1\n');
  });

  it('rollback is a new commit the daemon deploys, and history shows it', async () => {
    const { testing, tp, user, daemon } = await pipeline();
    await git(user.dir, 'pull', '-q', '--rebase');
    const good = await git(user.dir, 'rev-parse', 'HEAD');
    await user.write(`environments/${testing}/web.yaml`, web('v2', tp));
    const v2 = await user.push(`${testing}: web version 2`);
    await daemon.waitFor(testing, (e) => e.revision.lastGood !== null && e.services[0]?.image === image('v2'), 'v2 in testing', 60_000);
    await git(user.dir, 'pull', '-q', '--rebase');
    const identity = { GIT_AUTHOR_NAME: 'Test User', GIT_AUTHOR_EMAIL: 'user@example.com', GIT_COMMITTER_NAME: 'Test User', GIT_COMMITTER_EMAIL: 'user@example.com' };
    const rolled = await stagecoach(['rollback', '--env', testing, '--to', good, '--reason', 'v2 breaks checkout', '--repo', user.dir], { env: identity });
    expect(rolled.stderr).toBe('');
    expect(rolled.stdout).toMatch(new RegExp(`^${testing}: committed and pushed [0-9a-f]{7} to origin/main\\n$`));
    expect(rolled.code).toBe(0);
    await daemon.waitFor(testing, (e) => e.services[0]?.image === image('v1') && e.state === 'synced', 'the rollback to deploy', 60_000);
    expect((await httpGet(`http://127.0.0.1:${tp}/`)).body).toBe('version 1\n');
    const message = await git(user.dir, 'log', '-1', '--format=%B', '--', `environments/${testing}`);
    expect(message).toContain(`rollback ${testing} to ${good.slice(0, 7)}: v2 breaks checkout`);
    expect(message).toContain('Requested by Test User <user@example.com>: v2 breaks checkout');
    const history = await stagecoach(['history', '--env', testing, '--repo', user.dir]);
    expect(history.code).toBe(0);
    const lines = history.stdout.split('\n');
    expect(lines.some((l) => / rollback +rollback .* to [0-9a-f]{7}: v2 breaks checkout/.test(l))).toBe(true);
    expect(lines.some((l) => new RegExp(`^${v2.slice(0, 7)} .* change +${testing}: web version 2`).test(l))).toBe(true);
    expect(lines.some((l) => / marker +passed 1\/1 at /.test(l))).toBe(true);
  });
});

describe('markers under contention', () => {
  it('two daemons committing markers to one remote at the same moment, many times: each marker lands exactly once', async () => {
    const a = name('a');
    const b = name('b');
    const [ap, bp] = [await freePort(), await freePort()];
    const every = 'verify:\n  schedule: "* * * * * *"\n';
    const url = await server.createRepo(`race-${a}`, {
      [`environments/${a}/environment.yaml`]: envYaml(a, ap, every),
      [`environments/${a}/web.yaml`]: web('v1', ap),
      [`environments/${b}/environment.yaml`]: envYaml(b, bp, every),
      [`environments/${b}/web.yaml`]: web('v1', bp),
    });
    const da = await startDaemon(url, ['--env', a]);
    const db = await startDaemon(url, ['--env', b]);
    const verified = async (d: DaemonProcess, env: string) => (await d.environment(env))?.decisions.filter((x) => x.kind === 'verify').length ?? 0;
    await waitFor(async () => ((await verified(da, a)) >= 8 && (await verified(db, b)) >= 8 ? true : undefined), {
      timeoutMs: 90_000,
      intervalMs: 500,
      what: `eight markers from each daemon (outputs:\n${da.output.slice(-3000)}\n---\n${db.output.slice(-3000)})`,
    });
    expect(await da.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await db.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const pushedBy = (d: DaemonProcess) => d.output.split('\n').filter((l) => l.includes('"msg":"marker pushed"'));
    const counts = { [a]: pushedBy(da).length, [b]: pushedBy(db).length };
    const attempts = [...pushedBy(da), ...pushedBy(db)].map((l) => (JSON.parse(l) as { attempts: number }).attempts);
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(1);
    const user = await clone(url);
    for (const env of [a, b]) {
      const subjects = (await git(user.dir, 'log', '--format=%s %(trailers:key=Stagecoach-Environment,valueonly)', '--', `promotions/${env}.yaml`)).split('\n').filter(Boolean);
      const bodies = (await git(user.dir, 'log', '--format=%H', '--', `promotions/${env}.yaml`)).split('\n').filter(Boolean);
      expect(subjects.length).toBe(counts[env]);
      expect(new Set(bodies).size).toBe(bodies.length);
      const finished = await Promise.all(bodies.map(async (c) => (await git(user.dir, 'show', `${c}:promotions/${env}.yaml`)).match(/finishedAt: (.*)/)?.[1]));
      expect(new Set(finished).size).toBe(finished.length);
    }
    expect(da.output + db.output).not.toMatch(/force/i);
  });
});
