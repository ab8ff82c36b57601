import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess } from './helpers/daemon.js';
import { BASE_IMAGE, freePort, removeByLabel, requireDocker, requireImage, uniqueName } from './helpers/docker.js';
import { git, GitServer, UserClone } from './helpers/git.js';

const run = promisify(execFile);
let docker: Docker;
let server: GitServer;
let keys: string;
const envs: string[] = [];
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  docker = await requireDocker();
  await requireImage(docker);
  server = await GitServer.start();
  keys = await mkdtemp(path.join(tmpdir(), 'stagecoach-keys-'));
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'daemon', '-f', path.join(keys, 'daemon')]);
  await writeFile(path.join(keys, 'allowed_signers'), `stagecoach-daemon ${await readFile(path.join(keys, 'daemon.pub'), 'utf8')}`);
}, 60_000);

afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
  for (const env of envs) await removeByLabel(docker, 'io.stagecoach.environment', env);
  await server?.dispose();
  await rm(keys, { recursive: true, force: true });
});

const env = (prefix: string) => {
  const name = `${prefix}${uniqueName('x').slice(2).replace(/-/g, '')}`;
  envs.push(name);
  return name;
};

const web = (image: string, port: number) =>
  `apiVersion: stagecoach/v1\nkind: Service\nname: web\nimage: ${image}\ninit: true\nports: ["127.0.0.1:${port}:8080"]\nstop_grace_period: 1s\n` +
  `command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]\n`;

describe('the daemon signs its markers and trusts only signed ones (findings 1 and 7, end to end)', () => {
  it('signs markers with its key; ignores a hand-written marker; refuses an endpoint the operator did not allow', async () => {
    const [up, down, elsewhere] = [env('up'), env('dn'), env('ew')];
    const [upPort, downPort] = [await freePort(), await freePort()];
    const url = await server.createRepo(up, {
      [`environments/${up}/environment.yaml`]: `apiVersion: stagecoach/v1\nkind: Environment\nname: ${up}\ntests:\n  - name: answers\n    http: { url: "http://127.0.0.1:${upPort}/" }\n    retries: 10\n    delay: 300ms\n`,
      [`environments/${up}/web.yaml`]: web(BASE_IMAGE, upPort),
      [`environments/${down}/environment.yaml`]: `apiVersion: stagecoach/v1\nkind: Environment\nname: ${down}\npromotion: { from: ${up}, auto: off }\n`,
      [`environments/${down}/web.yaml`]: web(BASE_IMAGE, downPort),
      [`environments/${elsewhere}/environment.yaml`]: `apiVersion: stagecoach/v1\nkind: Environment\nname: ${elsewhere}\ntarget: { docker: "tcp://127.0.0.1:1" }\n`,
    });
    const daemon = await DaemonProcess.start(['--repo', url, '--interval', '300ms'], { STAGECOACH_SIGNING_KEY: path.join(keys, 'daemon'), STAGECOACH_ALLOWED_SIGNERS: path.join(keys, 'allowed_signers') });
    cleanup.push(() => daemon.dispose());
    const user = await UserClone.of(url);
    cleanup.push(() => user.dispose());

    const refused = await daemon.waitFor(elsewhere, (e) => e.state === 'invalid', 'the environment with a foreign endpoint to be refused');
    expect(refused.errors).toEqual([`environments/${elsewhere}/environment.yaml: /target/docker Docker endpoint tcp://127.0.0.1:1 is not allowed for environment ${elsewhere} by the operator (allow it in the daemon settings: policy.defaults.dockerTargets; allowed now: default, unix:///var/run/docker.sock)`]);

    const first = await daemon.waitFor(up, (e) => e.lastMarker?.result === 'passed', 'the first signed marker');
    await daemon.waitFor(down, (e) => e.state === 'synced', 'downstream to deploy what upstream verified');
    await git(user.dir, 'pull', '-q', '--rebase');
    const verified = await git(user.dir, '-c', `gpg.ssh.allowedSignersFile=${path.join(keys, 'allowed_signers')}`, 'log', '-1', '--format=%G? %GS', first.lastMarker!.commit);
    expect(verified).toBe('G stagecoach-daemon');

    // A person with push access writes a marker by hand for an image nobody tested, and points downstream at it.
    await user.write(`promotions/${up}.yaml`, 'forged: true\n');
    await git(user.dir, 'add', '-A');
    await git(user.dir, 'commit', '-q', '-m', `${up}: passed 1/1 tests\n\nStagecoach-Environment: ${up}\nStagecoach-Revision: ${first.lastMarker!.revision}\nStagecoach-Result: passed\nStagecoach-Image: web busybox:untested\n`);
    await user.write(`environments/${down}/web.yaml`, web('busybox:untested', downPort));
    await user.push('deploy the untested image downstream');
    // The push rebased the hand-written marker: its commit id as the remote has it.
    const forged = await git(user.dir, 'log', '-1', '--author=Test User', '--format=%H', '--', `promotions/${up}.yaml`);
    const blocked = await daemon.waitFor(down, (e) => e.state === 'blocked', 'the gate to hold the untested image back');
    expect(blocked.blocked).toEqual([expect.stringContaining(`image busybox:untested of service web has no passing marker in ${up}`)]);
    expect(blocked.blocked[0]).toContain(`ignored marker ${forged.slice(0, 7)} (not signed)`);
    // The service's containers (its fixed host port is held by the edge proxy, which carries no service label).
    const running = await docker.listContainers({ filters: { label: [`io.stagecoach.environment=${down}`, 'io.stagecoach.service'] } });
    expect(running.map((c) => c.Image)).toEqual([BASE_IMAGE]);
  });
});
