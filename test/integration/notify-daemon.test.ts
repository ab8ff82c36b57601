import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess } from './helpers/daemon.js';
import { buildTestImage, freePort, removeByLabel, requireDocker, TEST_LABEL, uniqueName, waitFor } from './helpers/docker.js';
import { git, GitServer, UserClone } from './helpers/git.js';
import { Receiver } from './helpers/receiver.js';

// A real daemon on a temp remote tells a receiver about a rollback and a failed verification,
// as signed webhooks and as GitHub-style commit statuses on the commits concerned.
const run = uniqueName('ntfy');
const env = `nd${run.slice(5).replace(/-/g, '')}`;
const image = (tag: string) => `stagecoach-test/${run}:${tag}`;
const key = `key-${run}`;
let docker: Docker;
let server: GitServer;
let receiver: Receiver;
let daemon: DaemonProcess;
let user: UserClone;
let settingsDir: string;
let port: number;

const web = (tag: string) =>
  `apiVersion: stagecoach/v1\nkind: Service\nname: web\nimage: ${image(tag)}\ninit: true\nports: ["127.0.0.1:${port}:8080"]\nstop_grace_period: 1s\n` +
  `healthcheck:\n  test: ["CMD-SHELL", "nc 127.0.0.1 8080 </dev/null"]\n  interval: 1s\n  timeout: 1s\n  retries: 2\n`;

beforeAll(async () => {
  docker = await requireDocker();
  const labels = { [TEST_LABEL]: run };
  const httpd = ['httpd', '-f', '-p', '8080', '-h', '/www'];
  await buildTestImage(docker, image('v1'), { files: { '/www/index.html': 'version 1\n' }, cmd: httpd, labels });
  await buildTestImage(docker, image('wrong'), { files: { '/www/index.html': 'oops\n' }, cmd: httpd, labels });
  await buildTestImage(docker, image('broken'), { files: { '/www/index.html': 'never served\n' }, cmd: ['sleep', '3600'], labels });
  port = await freePort();
  server = await GitServer.start();
  const url = await server.createRepo(run, {
    [`environments/${env}/environment.yaml`]: `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\ntests:\n  - name: homepage answers\n    http:\n      url: http://127.0.0.1:${port}/\n      expect: { status: 200, body: "version" }\n    retries: 2\n    delay: 300ms\n`,
    [`environments/${env}/web.yaml`]: web('v1'),
  });
  receiver = new Receiver(await freePort(), key);
  await receiver.up();
  settingsDir = await mkdtemp(path.join(tmpdir(), 'stagecoach-notify-'));
  await writeFile(path.join(settingsDir, 'hook.key'), key);
  await writeFile(path.join(settingsDir, 'gh.token'), 'gh-secret-token');
  await writeFile(
    path.join(settingsDir, 'settings.yaml'),
    [
      'notifications:',
      '  pageUrl: http://stagecoach.test/',
      '  retry: { attempts: 20, initialDelay: 100ms, maxDelay: 1s }',
      '  sinks:',
      `    - { name: hook, type: webhook, url: "${receiver.base}/hook", secret: { file: hook.key }, environments: [${env}] }`,
      `    - { name: forge, type: github, url: "${receiver.base}/gh", repository: acme/config, token: { file: gh.token }, environments: [${env}] }`,
      '',
    ].join('\n'),
  );
  daemon = await DaemonProcess.start(['--repo', url, '--interval', '300ms', '--config', path.join(settingsDir, 'settings.yaml')]);
  user = await UserClone.of(url);
});

afterAll(async () => {
  await daemon?.dispose();
  await user?.dispose();
  await receiver?.down();
  await server?.dispose();
  if (settingsDir) await rm(settingsDir, { recursive: true, force: true });
  await removeByLabel(docker, 'io.stagecoach.environment', env);
  await removeByLabel(docker, TEST_LABEL, run, { images: true });
});

const hooks = (kind: string) => receiver.signedEvents().filter((e) => e.event === kind);
const statuses = (sha: string) => receiver.received.filter((r) => r.path === `/gh/repos/acme/config/statuses/${sha}`).map((r) => ({ auth: r.headers.authorization, ...(JSON.parse(r.body) as Record<string, string>) }) as Record<string, string | undefined>);

describe('a real daemon notifies', () => {
  it('a deploy and its passing verification, with pending then success on the commit', async () => {
    await daemon.waitFor(env, (e) => e.lastMarker?.result === 'passed', 'the first passing marker', 60_000);
    const first = await git(user.dir, 'rev-parse', 'HEAD');
    await waitFor(async () => (statuses(first).length >= 2 ? true : undefined), { timeoutMs: 15_000, intervalMs: 100, what: 'two commit statuses on the first commit' });
    expect(statuses(first)).toEqual([
      { auth: 'Bearer gh-secret-token', state: 'pending', context: `stagecoach/${env}`, description: `${env}: deploying web at ${first.slice(0, 7)}`, target_url: 'http://stagecoach.test/' },
      { auth: 'Bearer gh-secret-token', state: 'success', context: `stagecoach/${env}`, description: `${env}: passed 1/1 tests at ${first.slice(0, 7)}`, target_url: 'http://stagecoach.test/' },
    ]);
    expect(hooks('verification.passed')[0]).toMatchObject({ environment: env, revision: first, tests: [{ name: 'homepage answers', result: 'passed' }] });
  });

  it('a rollback, with the reason, and an error status on the commit', async () => {
    await git(user.dir, 'pull', '-q', '--rebase');
    await user.write(`environments/${env}/web.yaml`, web('broken'));
    const pushed = await user.push('web that never becomes healthy');
    await waitFor(async () => hooks('rollback')[0], { timeoutMs: 90_000, intervalMs: 200, what: `a rollback notification (daemon output:\n${daemon.output.slice(-2000)})` });
    const [rollback] = hooks('rollback');
    expect(rollback).toMatchObject({ environment: env, revision: pushed, services: [{ name: 'web', image: image('broken') }] });
    expect((rollback!.reasons as string[])[0]).toMatch(/^replace web rolled-back: .*healthcheck failed/);
    await waitFor(async () => statuses(pushed).find((s) => s.state === 'error'), { timeoutMs: 15_000, intervalMs: 100, what: 'an error status' });
  });

  it('a failed verification, with every test, and a failure status on the commit', async () => {
    await git(user.dir, 'pull', '-q', '--rebase');
    await user.write(`environments/${env}/web.yaml`, web('wrong'));
    const pushed = await user.push('web that answers oops');
    const failed = await waitFor(async () => hooks('verification.failed')[0], { timeoutMs: 60_000, intervalMs: 200, what: 'a verification.failed notification' });
    expect(failed).toMatchObject({ environment: env, revision: pushed, summary: `${env}: failed 0/1 tests at ${pushed.slice(0, 7)}`, tests: [{ name: 'homepage answers', result: 'failed' }] });
    expect((failed.reasons as string[])[0]).toContain('homepage answers: expected the body to contain "version"');
    const status = await waitFor(async () => statuses(pushed).find((s) => s.state === 'failure'), { timeoutMs: 15_000, intervalMs: 100, what: 'a failure status' });
    expect(status.context).toBe(`stagecoach/${env}`);
    expect(receiver.received.filter((r) => r.path === '/hook').every((r) => r.signatureOk === true)).toBe(true);
    expect(daemon.output).not.toContain('gh-secret-token');
    expect(daemon.output).not.toContain(key);
    expect(await daemon.metric('stagecoach_notifications_failed_total')).toBe(0);
  });
});
