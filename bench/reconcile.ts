// Building blocks of the reconcile benchmark (bench/run.ts drives them):
// timed child processes, a stagecoach config repo and an equivalent
// docker-compose project written from one service description, polling the
// engine, and removal of everything a run created, by label.
import Docker from 'dockerode';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { InspectCache } from '../src/reconcile/inspect-cache.js';
import { observe } from '../src/reconcile/observe.js';
import { DockerRuntime, dockerConfigPath } from '../src/runtime/docker-runtime.js';

export const projectRoot = path.resolve(new URL('..', import.meta.url).pathname);
export const stagecoachBin = path.join(projectRoot, 'bin/stagecoach.js');
export const IMAGE = 'busybox:1.35';
/** Put on every container of a bench run (stagecoach's and compose's alike): the last-resort cleanup key. */
export const BENCH_LABEL = 'stagecoach-bench.run';
const STAGECOACH_ENV_LABEL = 'io.stagecoach.environment';
const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';

// ---------------------------------------------------------------- progress

const t0 = performance.now();
/** Progress goes to stderr; stdout is kept for the summary. */
export function progress(message: string): void {
  const s = Math.floor((performance.now() - t0) / 1000);
  process.stderr.write(`[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${message}\n`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------- timed commands

export interface Timed {
  code: number | null;
  ms: number;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();

/** Kills whatever command is in flight (used on SIGINT before cleaning up). */
export function killRunning(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Runs a command to completion; `ms` is wall time from spawn to exit (process start included). */
export function timed(cmd: string, args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, {
      cwd: options.cwd ?? projectRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 5 * 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      running.delete(child);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, ms: performance.now() - started, stdout, stderr });
    });
  });
}

/** Like timed(), but a non-zero exit (or a different expected one) is an error that shows the output's tail. */
export async function expectExit(what: string, run: Promise<Timed>, expected = 0): Promise<Timed> {
  const r = await run;
  if (r.code !== expected) {
    const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${what}: exit ${r.code} (expected ${expected}) after ${(r.ms / 1000).toFixed(1)} s\n${tail}`);
  }
  return r;
}

// ---------------------------------------------------------------- what runs

export interface ServiceShape {
  /** How many services: s000, s001, … */
  count: number;
  kind: 'httpd' | 'sleep';
  healthcheck: boolean;
  /** Value of BENCH_REV: changing it changes every service. */
  revision: string;
  runId: string;
  /** stagecoach's update order (compose's recreate is stop-first); unset: stagecoach's default, start-first. */
  order?: 'start-first' | 'stop-first';
}

const HTTPD = 'mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p 8080 -h /www';
const HEALTH_TEST = 'nc 127.0.0.1 8080 </dev/null';

const serviceName = (i: number) => `s${String(i).padStart(3, '0')}`;

function command(shape: ServiceShape): string[] {
  return shape.kind === 'httpd' ? ['sh', '-c', HTTPD] : ['sleep', '3600'];
}

/** One service as stagecoach manifest YAML (JSON-style flow values are valid YAML). */
function stagecoachService(shape: ServiceShape, i: number): string {
  const lines = [
    'apiVersion: stagecoach/v1',
    'kind: Service',
    `name: ${serviceName(i)}`,
    `image: ${IMAGE}`,
    'init: true',
    `command: ${JSON.stringify(command(shape))}`,
    `environment: { BENCH_REV: ${JSON.stringify(shape.revision)} }`,
    `labels: { ${JSON.stringify(BENCH_LABEL)}: ${JSON.stringify(shape.runId)} }`,
  ];
  if (shape.order) lines.push(`deploy: { update_config: { order: ${shape.order} } }`);
  if (shape.healthcheck) {
    lines.push('healthcheck:', `  test: ${JSON.stringify(['CMD-SHELL', HEALTH_TEST])}`, '  interval: 1s', '  timeout: 1s', '  retries: 3');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The same services as a compose file (v2.4 format: docker-compose v1 knows
 * `init` there). restart: unless-stopped is stagecoach's default; compose's
 * is "no". No published ports, stop grace left at both tools' default 10 s
 * (init: true makes stopping immediate anyway).
 */
export function composeFile(shape: ServiceShape): string {
  const lines = ['version: "2.4"', 'services:'];
  for (let i = 0; i < shape.count; i++) {
    lines.push(
      `  ${serviceName(i)}:`,
      `    image: ${IMAGE}`,
      '    init: true',
      '    restart: unless-stopped',
      `    command: ${JSON.stringify(command(shape))}`,
      `    environment: { BENCH_REV: ${JSON.stringify(shape.revision)} }`,
      `    labels: { ${JSON.stringify(BENCH_LABEL)}: ${JSON.stringify(shape.runId)} }`,
    );
    if (shape.healthcheck) {
      lines.push('    healthcheck:', `      test: ${JSON.stringify(['CMD-SHELL', HEALTH_TEST])}`, '      interval: 1s', '      timeout: 1s', '      retries: 3');
    }
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------- the two tools

/** Everything a run created, for cleanup: temp folders, environments, compose projects. */
export class Registry {
  readonly dirs = new Set<string>();
  readonly environments = new Set<string>();
  readonly projects = new Set<string>();
  constructor(readonly runId: string) {}

  async tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), `stagecoach-bench-${prefix}-`));
    this.dirs.add(dir);
    return dir;
  }
}

/** A config repo in a temp folder holding one environment, driven through the built CLI. */
export class StagecoachEnv {
  private constructor(
    readonly dir: string,
    readonly env: string,
  ) {}

  static async create(registry: Registry, env: string): Promise<StagecoachEnv> {
    registry.environments.add(env);
    const dir = await registry.tempDir(env);
    const folder = path.join(dir, 'environments', env);
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, 'environment.yaml'), `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\n`);
    return new StagecoachEnv(dir, env);
  }

  /** One manifest file per service, as a config repo would have. */
  async write(shape: ServiceShape): Promise<void> {
    const folder = path.join(this.dir, 'environments', this.env);
    await Promise.all(Array.from({ length: shape.count }, (_, i) => writeFile(path.join(folder, `${serviceName(i)}.yaml`), stagecoachService(shape, i))));
  }

  private cli(args: string[]): Promise<Timed> {
    return timed(process.execPath, [stagecoachBin, ...args], { env: { STAGECOACH_LOG_LEVEL: 'silent' }, timeoutMs: 8 * 60_000 });
  }

  apply(): Promise<Timed> {
    return expectExit(`stagecoach apply --env ${this.env}`, this.cli(['apply', '--env', this.env, '--repo', this.dir]));
  }

  /** Exit 0: in sync. Anything else is an error here (the bench only plans converged environments). */
  plan(): Promise<Timed> {
    return expectExit(`stagecoach plan --env ${this.env}`, this.cli(['plan', '--env', this.env, '--repo', this.dir]));
  }

  validate(): Promise<Timed> {
    return expectExit(`stagecoach validate --repo ${this.dir}`, this.cli(['validate', '--repo', this.dir]));
  }
}

/** A docker-compose (v1) project in a temp folder. */
export class ComposeProject {
  private constructor(
    readonly dir: string,
    readonly project: string,
  ) {}

  static async create(registry: Registry, project: string): Promise<ComposeProject> {
    registry.projects.add(project);
    return new ComposeProject(await registry.tempDir(project), project);
  }

  async write(shape: ServiceShape): Promise<void> {
    await writeFile(path.join(this.dir, 'docker-compose.yml'), composeFile(shape));
  }

  /** `env`: e.g. COMPOSE_PARALLEL_LIMIT, see bench/run.ts. */
  up(env: Record<string, string> = {}): Promise<Timed> {
    const run = timed('docker-compose', ['-p', this.project, '-f', path.join(this.dir, 'docker-compose.yml'), 'up', '-d', '--no-color'], { cwd: this.dir, env, timeoutMs: 5 * 60_000 });
    return expectExit(`docker-compose -p ${this.project} up -d`, run);
  }
}

// ---------------------------------------------------------------- the engine

export const docker = new Docker();

export async function requireEngine(): Promise<void> {
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(`no Docker engine answers (${(err as Error).message}); start one: dockerd >/var/log/dockerd.log 2>&1 &`);
  }
  try {
    await docker.getImage(IMAGE).inspect();
  } catch {
    throw new Error(`${IMAGE} is not present locally; run scripts/build-local-images.sh`);
  }
}

export interface Counted {
  total: number;
  running: number;
  healthy: number;
  /** Containers whose name shows a rollout in progress (stagecoach's .next/.prev). */
  transient: number;
}

export async function count(label: string): Promise<Counted> {
  const list = await docker.listContainers({ all: true, filters: { label: [label] } });
  return {
    total: list.length,
    running: list.filter((c) => c.State === 'running').length,
    healthy: list.filter((c) => c.Status.includes('(healthy)')).length,
    transient: list.filter((c) => /\.(next|prev)$/.test(c.Names[0] ?? '')).length,
  };
}

export const stagecoachLabel = (env: string) => `${STAGECOACH_ENV_LABEL}=${env}`;
export const composeLabel = (project: string) => `${COMPOSE_PROJECT_LABEL}=${project}`;

/** Polls (every 50 ms) until `want` containers carrying `label` are running (and healthy, if asked); resolves to when that was seen. */
export async function waitFor(label: string, want: number, healthy: boolean, timeoutMs = 120_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const c = await count(label);
    if ((healthy ? c.healthy : c.running) >= want) return performance.now();
    if (performance.now() > deadline) throw new Error(`${label}: ${healthy ? c.healthy : c.running} of ${want} ${healthy ? 'healthy' : 'running'} after ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}

/** Checks a converged state: exactly `want` containers, all running (and healthy), no rollout leftovers. */
export async function expectConverged(what: string, label: string, want: number, healthy: boolean): Promise<void> {
  const c = await count(label);
  const ok = c.total === want && c.running === want && c.transient === 0 && (!healthy || c.healthy === want);
  if (!ok) throw new Error(`${what}: expected ${want} running${healthy ? ' healthy' : ''} containers, found ${JSON.stringify(c)}`);
}

/** Runs fn over items with `width` workers. */
async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: width }, worker));
}

const ignore = (...codes: number[]) => (err: { statusCode?: number }) => {
  if (err.statusCode === undefined || !codes.includes(err.statusCode)) throw err;
};

/**
 * Stops, then removes. Force-removing many running containers at once has
 * left a network with a phantom endpoint on this engine (20.10: "has active
 * endpoints" with no container attached, until dockerd restarts), so stop first.
 */
async function removeContainers(label: string): Promise<number> {
  const list = await docker.listContainers({ all: true, filters: { label: [label] } });
  await pool(list, 8, async (c) => {
    if (c.State === 'running' || c.State === 'restarting') await docker.getContainer(c.Id).stop({ t: 2 }).catch(ignore(304, 404, 409));
  });
  await pool(list, 4, async (c) => {
    await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(ignore(404, 409));
  });
  return list.length;
}

/** Right after its containers go, the engine may still hold an endpoint: retry for a few seconds, then name what is left. */
async function removeNetworks(label: string): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    const nets = await docker.listNetworks({ filters: { label: [label] } });
    const errors: string[] = [];
    for (const n of nets) {
      await docker
        .getNetwork(n.Id)
        .remove()
        .catch((err: { statusCode?: number; message?: string }) => {
          if (err.statusCode !== 404) errors.push(`${n.Name}: ${err.message ?? String(err)}`);
        });
    }
    if (errors.length === 0 || attempt >= 20) return errors;
    await sleep(250);
  }
}

/** Networks that could not be removed, across the run: reported, never fatal. */
export const leftovers = new Set<string>();

/** Removes one environment's or project's containers and networks, by label. */
export async function removeStagecoachEnv(env: string): Promise<void> {
  await removeContainers(stagecoachLabel(env));
  for (const e of await removeNetworks(stagecoachLabel(env))) leftovers.add(e);
}

export async function removeComposeProject(project: string): Promise<void> {
  await removeContainers(composeLabel(project));
  for (const e of await removeNetworks(composeLabel(project))) leftovers.add(e);
}

/** Everything the run created: containers (by each label), networks, temp folders. Never throws. */
export async function cleanupAll(registry: Registry): Promise<string[]> {
  const problems: string[] = [];
  const attempt = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message}`);
    }
  };
  await attempt(`containers labelled ${BENCH_LABEL}=${registry.runId}`, () => removeContainers(`${BENCH_LABEL}=${registry.runId}`));
  for (const env of registry.environments) await attempt(`stagecoach environment ${env}`, () => removeStagecoachEnv(env));
  for (const project of registry.projects) await attempt(`compose project ${project}`, () => removeComposeProject(project));
  for (const dir of registry.dirs) await attempt(`folder ${dir}`, () => rm(dir, { recursive: true, force: true }));
  return problems;
}

/**
 * What a drift check of one environment costs in Engine API requests (counted
 * at the HTTP layer, every request dockerode makes): the first check, and a
 * second one with nothing changed, sharing one InspectCache as the daemon does.
 */
export async function driftCheckCalls(env: string): Promise<{ cold: number; warm: number }> {
  const client = new Docker();
  let requests = 0;
  const modem = client.modem as unknown as { dial: (...args: unknown[]) => unknown };
  const dial = modem.dial.bind(modem);
  modem.dial = (...args: unknown[]) => {
    requests++;
    return dial(...args);
  };
  const runtime = new DockerRuntime(client, 'unix:///var/run/docker.sock', dockerConfigPath(process.env));
  const cache = new InspectCache();
  await observe(runtime, env, [IMAGE], { cache });
  const cold = requests;
  requests = 0;
  await observe(runtime, env, [IMAGE], { cache });
  return { cold, warm: requests };
}

// ---------------------------------------------------------------- statistics

export { median } from '../test/support/stats.js';
