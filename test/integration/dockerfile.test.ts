// The daemon's own image: the Dockerfile builds (FROM node:20-bookworm-slim,
// a local stand-in made by scripts/build-node-base.sh when no registry
// answers), and a container from it runs as non-root, answers /healthz on its
// published port, turns Docker-healthy, and deploys through the mounted
// Docker socket: it follows a tiny config repo (created in its data volume)
// and starts that environment's one service as a sibling container on the
// host engine.
//
// Independent of other tests: every name is unique (no fixed host ports, no
// testing-* containers), and everything is labelled and removed afterwards.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type Docker from 'dockerode';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TEST_LABEL, freePort, httpGet, removeByLabel, requireDocker, uniqueName, waitFor } from './helpers/docker.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOCKET = '/var/run/docker.sock';
const ENV_LABEL = 'io.stagecoach.environment';
const BUILD_TIMEOUT_MS = 10 * 60_000;

interface Run {
  stdout: string;
  stderr: string;
}

/** Runs a program in the project root; rejects with its exit code and the last lines of its output. */
function run(cmd: string, args: string[], timeoutMs = 120_000, input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      {
        cwd: ROOT,
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
        // The engine here is dockerd 20.10 and the CLI has no buildx: the classic builder.
        env: { ...process.env, DOCKER_BUILDKIT: '0' },
      },
      (error, stdout, stderr) => {
        if (error) {
          const tail = `${stdout}\n${stderr}`.trimEnd().split('\n').slice(-30).join('\n');
          const how = error.killed ? `was killed after ${timeoutMs} ms` : `exited with ${String(error.code)}`;
          reject(new Error(`\`${cmd} ${args.join(' ')}\` ${how}\n--- last output ---\n${tail}`));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

describe('the Dockerfile (the daemon as an image)', () => {
  let docker: Docker;
  const runId = uniqueName('dockerfile');
  const tag = `stagecoach-test/daemon:${runId}`;
  const env = uniqueName('dkf'); // environment name: its service runs as <env>-app
  const volume = `${runId}-data`;
  const daemonName = `${runId}-daemon`;
  const socketGid = () => String(statSync(SOCKET).gid);
  let port = 0;

  beforeAll(async () => {
    docker = await requireDocker();
    // busybox:1.35 is the image of the service the containerised daemon deploys.
    await run('bash', ['scripts/build-local-images.sh']);
    let t = Date.now();
    const base = await run('bash', ['scripts/build-node-base.sh'], 5 * 60_000);
    console.log(`${base.stdout.trim()}\n[dockerfile.test] base image ready in ${seconds(t)}`);
    t = Date.now();
    await run('docker', ['build', '--force-rm', '--label', `${TEST_LABEL}=${runId}`, '-t', tag, '.'], BUILD_TIMEOUT_MS);
    console.log(`[dockerfile.test] docker build of ${tag} took ${seconds(t)}`);
  }, BUILD_TIMEOUT_MS + 6 * 60_000);

  afterAll(async () => {
    if (!docker) return;
    // The daemon first (or it would heal what we remove), its volume and image; then what it deployed.
    const errors: unknown[] = [];
    await removeByLabel(docker, TEST_LABEL, runId, { images: true }).catch((e: unknown) => errors.push(e));
    await removeByLabel(docker, ENV_LABEL, env).catch((e: unknown) => errors.push(e));
    if (errors.length > 0) throw errors[0];
  }, 60_000);

  it('is configured as documented: non-root user, /data volume, port 7420, health check, entrypoint', async () => {
    const info = await docker.getImage(tag).inspect();
    const config = info.Config;
    expect(config.User).toBe('node');
    expect(config.Entrypoint).toEqual(['node', '--max-semi-space-size=1', '--single-threaded', '--expose-gc', '/app/bin/stagecoach.js']);
    expect(config.Cmd).toEqual(['run']);
    expect(Object.keys(config.Volumes ?? {})).toEqual(['/data']);
    expect(Object.keys(config.ExposedPorts ?? {})).toEqual(['7420/tcp']);
    expect(config.Env).toEqual(expect.arrayContaining(['STAGECOACH_DATA=/data', 'STAGECOACH_LISTEN=0.0.0.0:7420']));
    const healthcheck = (config as { Healthcheck?: { Test?: string[] } }).Healthcheck;
    expect(healthcheck?.Test?.[0]).toBe('CMD');
    expect(healthcheck?.Test?.join(' ')).toContain('/healthz');

    // Production dependencies only, and no sources or tests in the image.
    const { stdout } = await run('docker', [
      'run', '--rm', '--label', `${TEST_LABEL}=${runId}`, '--entrypoint', 'sh', tag, '-c',
      'id -u; ls /app; ls /app/node_modules | grep -c -x -E "vitest|typescript|tsx" || true; git --version',
    ]);
    const [uid, ...rest] = stdout.trim().split('\n');
    expect(Number(uid)).not.toBe(0);
    const listing = rest.slice(0, -2);
    expect(listing).toEqual(expect.arrayContaining(['bin', 'dist', 'environments', 'node_modules', 'package.json', 'schemas']));
    expect(listing).not.toContain('src');
    expect(listing).not.toContain('test');
    expect(rest.at(-2)).toBe('0'); // no dev dependencies
    expect(rest.at(-1)).toMatch(/^git version /);
  });

  it('runs the CLI: `stagecoach --help`', async () => {
    const { stdout } = await run('docker', ['run', '--rm', '--label', `${TEST_LABEL}=${runId}`, tag, '--help']);
    expect(stdout).toContain('Usage: stagecoach');
    expect(stdout).toMatch(/\brun\b/);
  });

  it('runs the daemon as non-root: /healthz on the published port, Docker-healthy, deploys through the socket', async () => {
    // A config repo in the data volume, written by the image's own user (a
    // named volume starts out owned by `node`, as the Dockerfile promises).
    await docker.createVolume({ Name: volume, Labels: { [TEST_LABEL]: runId } });
    const seed = [
      'set -e',
      `mkdir -p /tmp/work/environments/${env} && cd /tmp/work`,
      `cat > environments/${env}/environment.yaml <<'EOF'`,
      'apiVersion: stagecoach/v1',
      'kind: Environment',
      `name: ${env}`,
      'EOF',
      `cat > environments/${env}/app.yaml <<'EOF'`,
      'apiVersion: stagecoach/v1',
      'kind: Service',
      'name: app',
      'image: busybox:1.35',
      'command: ["sleep", "3600"]',
      'init: true',
      'stop_grace_period: 1s',
      'EOF',
      'git init -q --initial-branch main .',
      'git add . && git -c user.name=test -c user.email=test@localhost commit -q -m "one environment"',
      'git init -q --bare --initial-branch main /data/config.git',
      'git push -q /data/config.git main',
      'id -u',
    ].join('\n');
    const seeded = await run('docker', [
      'run', '--rm', '--label', `${TEST_LABEL}=${runId}`, '-v', `${volume}:/data`, '--entrypoint', 'sh', tag, '-c', seed,
    ]);
    expect(seeded.stdout.trim()).toBe('1000');

    port = await freePort();
    const t = Date.now();
    await run('docker', [
      'run', '-d', '--name', daemonName, '--label', `${TEST_LABEL}=${runId}`, '--init',
      '-v', `${SOCKET}:${SOCKET}`, '--group-add', socketGid(),
      '-v', `${volume}:/data`, '-p', `127.0.0.1:${port}:7420`,
      // The image's health check, asked every second instead of every 15 s.
      '--health-interval', '1s',
      tag, 'run', '--repo', '/data/config.git', '--env', env,
    ]);
    const daemon = docker.getContainer(daemonName);
    const logs = async () => {
      const buf = (await daemon.logs({ stdout: true, stderr: true, tail: 40 })) as unknown as Buffer;
      return buf.toString('utf8').replace(/[\x00-\x08]/g, '');
    };

    let lastSeen = '';
    try {
      const health = await waitFor(
        async () => {
          const r = await httpGet(`http://127.0.0.1:${port}/healthz`);
          return r.status === 200 ? r : false;
        },
        { what: `the containerised daemon to answer /healthz on 127.0.0.1:${port}`, timeoutMs: 30_000, intervalMs: 250 },
      );
      expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
      console.log(`[dockerfile.test] /healthz answered ${seconds(t)} after docker run`);

      // Non-root, with the socket's group (--group-add) as a supplementary group.
      const info = await daemon.inspect();
      expect(info.Config.User).toBe('node');
      const top = await run('docker', ['exec', daemonName, 'sh', '-c', 'id -u; id -G']);
      const [uid, groups] = top.stdout.trim().split('\n');
      expect(Number(uid)).not.toBe(0);
      expect(groups?.split(' ')).toContain(socketGid());

      // The daemon reached the engine through the socket: its environment is
      // in sync, and the service it deployed runs on the host engine.
      const synced = await waitFor(
        async () => {
          const r = await httpGet(`http://127.0.0.1:${port}/api/v1/environments`);
          if (r.status !== 200) return false;
          const status = JSON.parse(r.body) as { environments: { name: string; state: string; errors: string[] }[] };
          const e = status.environments.find((x) => x.name === env);
          lastSeen = JSON.stringify(e ?? status).slice(0, 1500);
          return e?.state === 'synced' ? e : false;
        },
        { what: `environment ${env} to be 'synced' by the containerised daemon`, timeoutMs: 90_000, intervalMs: 500 },
      );
      expect(synced.errors).toEqual([]);
      const deployed = await docker.listContainers({ filters: { label: [`${ENV_LABEL}=${env}`] } });
      expect(deployed.map((c) => c.Names[0])).toEqual([`/${env}-app`]);
      expect(deployed[0]?.State).toBe('running');
      console.log(`[dockerfile.test] ${env} synced ${seconds(t)} after docker run`);

      // Docker's own verdict from the image's HEALTHCHECK.
      const healthy = await waitFor(
        async () => {
          const s = (await daemon.inspect()).State.Health;
          lastSeen = JSON.stringify(s).slice(0, 1500);
          return s?.Status === 'healthy' ? s : false;
        },
        { what: `container ${daemonName} to be healthy`, timeoutMs: 60_000, intervalMs: 500 },
      );
      expect(healthy.Log?.at(-1)?.ExitCode).toBe(0);
      console.log(`[dockerfile.test] Docker reported healthy ${seconds(t)} after docker run`);

      // SIGTERM (forwarded by --init) stops it cleanly.
      await daemon.stop({ t: 20 });
      const stopped = await daemon.inspect();
      expect(stopped.State.ExitCode).toBe(0);
      expect(await logs()).toContain('stagecoach: stopped');
    } catch (error) {
      const tail = await logs().catch(() => '(no logs)');
      throw new Error(
        `${(error as Error).message}${lastSeen ? `\n--- last seen ---\n${lastSeen}` : ''}\n--- daemon container logs ---\n${tail}`,
      );
    }
  }, 240_000);
});
