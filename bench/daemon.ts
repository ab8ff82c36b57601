// The daemon benchmark: how fast `stagecoach run` turns a pushed commit into a
// running, healthy container, and what it costs while nothing changes — each
// next to a lower bound measured in the same run on the same engine.
//
// 1. Commit-to-running latency. One environment with one small service (an
//    image built FROM busybox:1.35 that serves "version N" with httpd on an
//    ephemeral 127.0.0.1 port, `init: true`, stop_grace_period 1s). A user
//    clone commits VERSION: N and pushes; the clock starts when `git push`
//    returns. The bench then polls the engine (container list, label
//    io.stagecoach.revision = the pushed commit) and the new container's HTTP
//    answer every ~20 ms and records: created (the daemon decided and acted),
//    running, answers "version N", healthy (healthcheck variant), rollout done
//    (old container removed, new one renamed to <env>-web) and marker pushed
//    (from the daemon's status API, polled every 50 ms); and from the daemon's
//    own log (pino timestamps, same clock) when it accepted the webhook and
//    when it logged `decision: deploy` for the pushed revision.
//      paths:    webhook — daemon `--repo git://127.0.0.1:P/x.git --interval 1h`;
//                the bench POSTs a signed GitHub push webhook right after the push;
//                local   — daemon `--repo /path/x.git --interval 1h`; the push goes
//                to that bare repository and the daemon's ref watcher notices.
//      variants: healthcheck ["CMD-SHELL","nc 127.0.0.1 8080 </dev/null"] every 1s,
//                and none (ready = running for the daemon's 2 s grace).
//    Lower bounds: `git ls-remote` round trip (git:// and local path), and
//    `docker run -d` of the same image with the same healthcheck → answers /
//    healthy, polled the same way (plus create+start through the API, which is
//    what the daemon uses, for reference).
// 2. Idle poll cycle cost. 3 environments × 50 sleep-only busybox services (no
//    healthcheck, no ports) in one repo on the git daemon, deployed first; then
//    the daemon (`--interval 1s`) idles for BENCH_IDLE_SECONDS: its CPU time
//    (utime+stime from /proc/<pid>/stat; its reaped children's cutime+cstime
//    separately) divided by the polls it made (Δ stagecoach_git_remote_queries_total),
//    processes it spawns per poll (strace -f execve, attached afterwards for
//    BENCH_STRACE_SECONDS), and Docker API calls per poll (the daemon talks to
//    the engine through a counting proxy socket given as DOCKER_HOST). Then the
//    same daemon is restarted with `--interval 1h` on the same data dir and
//    measured for BENCH_BASELINE_SECONDS: its CPU when it does nothing at all,
//    so the marginal cost of a poll can be told apart from fixed timers. Lower
//    bound: the CPU of one bare `git ls-remote` process (mean of 20, bash `times`).
//
//   npm run build && npx tsx bench/daemon.ts
//
// Knobs (environment): BENCH_REPS (default 5), BENCH_IDLE_ENVS (3),
// BENCH_IDLE_SERVICES (50 per environment), BENCH_IDLE_SECONDS (30),
// BENCH_STRACE_SECONDS (15), BENCH_BASELINE_SECONDS (15), BENCH_DAEMON_ONLY=latency,idle
// to run a part, BENCH_DAEMON_STRACE=DIR to run the latency daemons under
// `strace -f -ttt` (execve/connect/exit_group) for a timeline of where their
// reaction time goes (slows them: not for the numbers).
// Progress goes to stderr, the table to stdout, raw samples to bench/results/
// (git-ignored). Everything created (containers and networks by label
// io.stagecoach.environment=<env>, the image, daemons, git daemon, temp dirs)
// is removed at the end, also on failure or Ctrl-C.
//
// From another script: `import { runDaemonBench } from './daemon.js'`.
import { execFile, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { DaemonProcess } from '../test/support/daemon-process.js';
import { DockerProxy } from './docker-proxy.js';
import { GitServer } from '../test/support/git-server.js';
import { formatMs, median, table } from '../test/support/stats.js';

export { median };

const run = promisify(execFile);
const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const identity = { GIT_AUTHOR_NAME: 'Bench User', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'Bench User', GIT_COMMITTER_EMAIL: 'bench@example.com' };
const ENV_LABEL = 'io.stagecoach.environment';
const REVISION_LABEL = 'io.stagecoach.revision';
const SERVICE_LABEL = 'io.stagecoach.service';
const BENCH_LABEL = 'io.stagecoach.bench';
const BASE_IMAGE = 'busybox:1.35';
const POLL_MS = 20;
const HC_ARGS = { test: 'nc 127.0.0.1 8080 </dev/null', interval: '1s', timeout: '1s', retries: 2 };
const CLK_TCK = 100;

export interface DaemonBenchOptions {
  reps?: number;
  idleEnvs?: number;
  idleServices?: number;
  idleSeconds?: number;
  straceSeconds?: number;
  baselineSeconds?: number;
  parts?: ('latency' | 'idle')[];
  log?: (message: string) => void;
}

type Path = 'webhook' | 'local';
type Variant = 'hc' | 'nohc';
const milestones = ['accepted', 'decided', 'created', 'running', 'answers', 'healthy', 'done', 'marker'] as const;
type Milestone = (typeof milestones)[number];

export interface LatencySample extends Partial<Record<Milestone, number>> {
  path: Path;
  variant: Variant;
  rep: number;
  revision: string;
  webhookMs?: number;
}

export interface BoundSamples {
  lsRemoteGit: number[];
  lsRemoteLocal: number[];
  /** `docker run -d` (CLI) and API create+start, per variant: ms from the call to each milestone. */
  dockerRun: Record<Variant, Partial<Record<'returned' | 'running' | 'answers' | 'healthy', number>>[]>;
  apiRun: Record<Variant, Partial<Record<'returned' | 'running' | 'answers' | 'healthy', number>>[]>;
}

export interface IdleResult {
  environments: number;
  services: number;
  deployMs: number;
  windowMs: number;
  polls: number;
  fetches: number;
  cpuMs: number;
  childCpuMs: number;
  schedCpuMs: number;
  driftChecks: number;
  driftCpuMs: number;
  /** Loads, observations and applies (the daemon's own counters) from the first deploy being marked to the end of the quiet wait, and in the window. */
  work: Record<'sinceStart' | 'afterMarkers' | 'window', { loads: number; observes: number; applies: number; fetches: number }>;
  dockerCalls: number;
  dockerCallsByRoute: Record<string, number>;
  burstSizes: number[];
  straceWindowMs: number;
  stracePolls: number;
  spawned: Record<string, number>;
  straceAvailable: boolean;
  rssMb: number;
  logLines: number;
  /** The same daemon restarted with --interval 1h: CPU while it does nothing at all. */
  baselineWindowMs: number;
  baselineCpuMs: number;
  baselineSchedMs: number;
  baselinePolls: number;
  lsRemoteCpuMs: number;
}

// ------------------------------------------------------------------ small helpers

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: { ...process.env, ...identity }, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

async function waitUntil<T>(fn: () => Promise<T | undefined | null | false>, what: string, timeoutMs: number, intervalMs = 100, detail: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const r = await fn();
      if (r !== undefined && r !== null && r !== false) return r;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}${detail()}`);
    await sleep(intervalMs);
  }
}

/** Everything the bench creates registers how to remove it; run() undoes it all, newest first, never throwing. */
class Cleanup {
  private readonly steps: { what: string; fn: () => Promise<unknown> }[] = [];
  add(what: string, fn: () => Promise<unknown>): void {
    this.steps.push({ what, fn });
  }
  async run(log: (m: string) => void): Promise<void> {
    for (const { what, fn } of this.steps.splice(0).reverse()) {
      await fn().catch((error: unknown) => log(`cleanup: ${what} failed: ${(error as Error).message}`));
    }
  }
}
const active = new Set<{ cleanup: Cleanup; log: (m: string) => void }>();

// ------------------------------------------------------------------ git server, clones

async function userClone(url: string, cleanup: Cleanup): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'stagecoach-bench-user-'));
  cleanup.add(`user clone ${dir}`, () => rm(dir, { recursive: true, force: true }));
  await git(dir, ['clone', '-q', url, '.']);
  return dir;
}

// ------------------------------------------------------------------ the daemon

/** The daemon verified `revision`, pushed its marker, and has seen that marker come back: nothing is in flight. */
/** The shared daemon wrapper, started for the bench and registered for cleanup (SIGTERM, then its data dir). */
async function startDaemon(args: string[], env: Record<string, string>, cleanup: Cleanup, wrap: string[] = [], dataDir?: string): Promise<DaemonProcess> {
  const daemon = await DaemonProcess.start(args, env, { wrap, dataDir });
  cleanup.add(`daemon ${daemon.pid}`, async () => {
    await daemon.terminate();
    await rm(daemon.dataDir, { recursive: true, force: true });
  });
  return daemon;
}

async function settled(daemon: DaemonProcess, envs: string[], revision: string | undefined, timeoutMs: number): Promise<void> {
  await waitUntil(
    async () => {
      const st = await daemon.status();
      const all = envs.map((name) => st.environments.find((x) => x.name === name));
      // Each environment runs what its marker describes; the daemon has seen the newest of those markers on the remote.
      const marked = all.every((e) => e && e.state === 'synced' && e.lastMarker && e.lastMarker.revision === e.revision.applied && (!revision || e.lastMarker.revision === revision));
      return marked && st.remote.head !== null && all.some((e) => e!.lastMarker!.commit === st.remote.head);
    },
    `${envs.join(', ')} to settle${revision ? ` at ${revision.slice(0, 7)}` : ''}`,
    timeoutMs,
    100,
    () => `\ndaemon output (tail):\n${daemon.tail()}`,
  );
}

// ------------------------------------------------------------------ docker: image, proxy, cleanup

async function buildWebImage(docker: Docker, tag: string, runId: string): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'stagecoach-bench-build-'));
  try {
    await writeFile(path.join(dir, 'Dockerfile'), `FROM ${BASE_IMAGE}\nLABEL ${BENCH_LABEL}="${runId}"\nCOPY serve.sh /serve.sh\nCMD ["/serve.sh"]\n`);
    await writeFile(path.join(dir, 'serve.sh'), '#!/bin/sh\nmkdir -p /www\necho "version ${VERSION:-0}" > /www/index.html\nexec httpd -f -p 8080 -h /www\n', { mode: 0o755 });
    const stream = await docker.buildImage({ context: dir, src: ['Dockerfile', 'serve.sh'] }, { t: tag, rm: true, forcerm: true, version: '1' });
    const output = await new Promise<{ error?: string }[]>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => (err ? reject(err) : resolve(out))));
    const failed = output.find((o) => o.error);
    if (failed) throw new Error(`docker build of ${tag} failed: ${failed.error}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function removeEnvironment(docker: Docker, env: string): Promise<void> {
  const filters = { label: [`${ENV_LABEL}=${env}`] };
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  const stuck: string[] = [];
  for (const n of await docker.listNetworks({ filters })) {
    let ok = false;
    for (let attempt = 0; attempt < 5 && !ok; attempt++) {
      ok = await docker.getNetwork(n.Id).remove().then(() => true, (e: { statusCode?: number }) => e.statusCode === 404);
      if (!ok) await sleep(200 * (attempt + 1));
    }
    if (!ok) stuck.push(n.Name);
  }
  const { Volumes: volumes } = await docker.listVolumes({ filters });
  for (const v of volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => undefined);
  if (stuck.length) throw new Error(`the engine refused to remove network(s) ${stuck.join(', ')}; remove them by hand (docker network rm)`);
}

// ------------------------------------------------------------------ part 1: latency

function webYaml(image: string, version: number, variant: Variant): string {
  const hc = variant === 'hc' ? `healthcheck:\n  test: ["CMD-SHELL", "${HC_ARGS.test}"]\n  interval: ${HC_ARGS.interval}\n  timeout: ${HC_ARGS.timeout}\n  retries: ${HC_ARGS.retries}\n` : '';
  return `apiVersion: stagecoach/v1\nkind: Service\nname: web\nimage: ${image}\ninit: true\nenvironment:\n  VERSION: "${version}"\nports: ["127.0.0.1::8080"]\nstop_grace_period: 1s\n${hc}`;
}

const environmentYaml = (env: string) => `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\n`;

async function answers(port: number | undefined, version: number): Promise<boolean> {
  if (!port) return false;
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(300) });
    return (await res.text()).trim() === `version ${version}`;
  } catch {
    return false;
  }
}

function publicPort(c: Docker.ContainerInfo): number | undefined {
  return c.Ports?.find((p) => p.PrivatePort === 8080 && p.PublicPort)?.PublicPort;
}

/** Polls the engine and the new version's HTTP answer every ~20 ms from t0 until the rollout is done. */
async function watchRollout(docker: Docker, daemon: DaemonProcess, env: string, revision: string, version: number, variant: Variant, t0: number): Promise<Partial<Record<Milestone, number>>> {
  const seen: Partial<Record<Milestone, number>> = {};
  const deadline = t0 + 60_000;
  const need: Milestone[] = ['created', 'running', 'answers', 'done', 'marker', ...(variant === 'hc' ? (['healthy'] as const) : [])];
  // The marker is the daemon's own bookkeeping: polled from its status API, off the 20 ms loop.
  let watching = true;
  const marker = (async () => {
    while (watching && seen.marker === undefined) {
      const st = await daemon.status().catch(() => undefined);
      const e = st?.environments.find((x) => x.name === env);
      if (e?.lastMarker?.revision === revision && seen.marker === undefined) seen.marker = performance.now() - t0;
      await sleep(50);
    }
  })();
  try {
    while (!need.every((m) => seen[m] !== undefined)) {
      const tick = performance.now();
      if (tick > deadline) throw new Error(`rollout of ${revision.slice(0, 7)} (version ${version}) not done after 60 s: saw ${JSON.stringify(seen)}\ndaemon output (tail):\n${daemon.tail()}`);
      const list = await docker.listContainers({ all: true, filters: { label: [`${ENV_LABEL}=${env}`, `${SERVICE_LABEL}=web`] } });
      const at = performance.now() - t0;
      const mine = list.find((c) => c.Labels[REVISION_LABEL] === revision);
      if (mine) {
        seen.created ??= at;
        if (mine.State === 'running') seen.running ??= at;
        if (variant === 'hc' && /\(healthy\)/.test(mine.Status)) seen.healthy ??= at;
        if (seen.answers === undefined && mine.State === 'running' && (await answers(publicPort(mine), version))) seen.answers = performance.now() - t0;
        if (list.length === 1 && mine.Names[0] === `/${env}-web` && mine.State === 'running') seen.done ??= at;
      }
      const spent = performance.now() - tick;
      if (spent < POLL_MS) await sleep(POLL_MS - spent);
    }
  } finally {
    watching = false;
    await marker;
  }
  return seen;
}

async function measureLatencyPath(p: Path, ctx: Ctx, reps: number, samples: LatencySample[], lsRemote: number[]): Promise<void> {
  const { docker, server, cleanup, log, image, runId } = ctx;
  const env = `bd${p === 'webhook' ? 'w' : 'l'}${runId}`;
  cleanup.add(`containers of ${env}`, () => removeEnvironment(docker, env));
  let version = 1;
  await server.createRepo(env, { [`environments/${env}/environment.yaml`]: environmentYaml(env), [`environments/${env}/web.yaml`]: webYaml(image, version, 'hc') });
  const url = p === 'webhook' ? server.url(env) : server.path(env);
  const secret = randomBytes(16).toString('hex');
  // BENCH_DAEMON_STRACE=DIR: run these daemons under strace (execve/connect/exit with timestamps) to see where
  // the reaction time goes; it slows them down, so the numbers of such a run are not the benchmark's.
  const traceDir = process.env.BENCH_DAEMON_STRACE;
  const wrap = traceDir ? ['strace', '-f', '--seccomp-bpf', '-ttt', '-e', 'trace=execve,connect,exit_group', '-o', path.join(traceDir, `${p}.trace`)] : [];
  const daemon = await startDaemon(['--repo', url, '--interval', '1h'], { STAGECOACH_WEBHOOK_SECRET: secret }, cleanup, wrap);
  log(`latency/${p}: daemon ${daemon.pid} follows ${url} (interval 1h); first deploy…`);
  await settled(daemon, [env], undefined, 90_000);
  const clone = await userClone(url, cleanup);

  // The lower bound for this path: the same ls-remote the daemon makes first.
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await run('git', ['ls-remote', url, 'refs/heads/main']);
    lsRemote.push(performance.now() - t);
  }

  const hook = async (): Promise<number> => {
    const body = '{"ref":"refs/heads/main"}';
    const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    const t = performance.now();
    const res = await fetch(`${daemon.base}/hooks/github`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signature } });
    await res.text();
    if (!res.ok) throw new Error(`webhook answered ${res.status}`);
    return performance.now() - t;
  };

  /** One commit of VERSION: n; returns [revision, ms after push returned per milestone]. */
  const pushAndWatch = async (variant: Variant): Promise<LatencySample> => {
    version++;
    await git(clone, ['pull', '-q', '--rebase']);
    await writeFile(path.join(clone, `environments/${env}/web.yaml`), webYaml(image, version, variant));
    await git(clone, ['commit', '-q', '-am', `web: version ${version} (${variant})`]);
    const revision = await git(clone, ['rev-parse', 'HEAD']);
    await git(clone, ['push', '-q', 'origin', 'HEAD:main']);
    const t0 = performance.now();
    const wall0 = Date.now();
    const sample: LatencySample = { path: p, variant, rep: 0, revision };
    const hooked = p === 'webhook' ? hook().then((d) => (sample.webhookMs = d)) : Promise.resolve();
    Object.assign(sample, await watchRollout(docker, daemon, env, revision, version, variant, t0));
    await hooked;
    // From the daemon's own log (pino time, same clock, 1 ms resolution): when it took the webhook, when it decided to deploy.
    const after = daemon.entries.filter((e) => e.time >= wall0);
    const accepted = after.find((e) => e.msg.startsWith('webhook accepted'));
    const decided = after.find((e) => e.msg === 'decision: deploy' && e.revision === revision.slice(0, 7));
    if (accepted) sample.accepted = accepted.time - wall0;
    if (decided) sample.decided = decided.time - wall0;
    await settled(daemon, [env], revision, 60_000);
    return sample;
  };

  for (const variant of ['hc', 'nohc'] as const) {
    if (variant === 'nohc') {
      await pushAndWatch(variant); // the switch from the healthcheck variant: not measured
    }
    for (let rep = 1; rep <= reps; rep++) {
      const sample = await pushAndWatch(variant);
      sample.rep = rep;
      samples.push(sample);
      log(`  ${p}/${variant} ${rep}/${reps}: decided ${formatMs(sample.decided ?? Number.NaN)}, created ${formatMs(sample.created!)}, answers ${formatMs(sample.answers!)}${variant === 'hc' ? `, healthy ${formatMs(sample.healthy!)}` : ''}, done ${formatMs(sample.done!)}, marker ${formatMs(sample.marker!)}${sample.webhookMs !== undefined ? ` (webhook answered in ${formatMs(sample.webhookMs)})` : ''}`);
    }
  }
  await daemon.terminate();
  await removeEnvironment(docker, env).catch((error: unknown) => log(`latency/${p}: ${(error as Error).message}`));
}

/** The engine's own cost: start the same image with the same healthcheck, polled the same way. */
async function measureDockerRun(ctx: Ctx, how: 'cli' | 'api', variant: Variant, rep: number): Promise<Partial<Record<'returned' | 'running' | 'answers' | 'healthy', number>>> {
  const { docker, image, runId } = ctx;
  const env = `bdb${runId}`;
  const name = `${env}-${how}-${variant}-${rep}`;
  const version = 1000 + rep;
  const seen: Partial<Record<'returned' | 'running' | 'answers' | 'healthy', number>> = {};
  const t0 = performance.now();
  let started: Promise<unknown>;
  if (how === 'cli') {
    const hc = variant === 'hc' ? ['--health-cmd', HC_ARGS.test, '--health-interval', HC_ARGS.interval, '--health-timeout', HC_ARGS.timeout, '--health-retries', String(HC_ARGS.retries)] : [];
    started = run('docker', ['run', '-d', '--init', '--name', name, '--label', `${ENV_LABEL}=${env}`, '-p', '127.0.0.1::8080', '-e', `VERSION=${version}`, ...hc, image]);
  } else {
    const s = 1_000_000_000;
    started = docker
      .createContainer({
        name,
        Image: image,
        Env: [`VERSION=${version}`],
        Labels: { [ENV_LABEL]: env },
        ExposedPorts: { '8080/tcp': {} },
        HostConfig: { Init: true, PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
        ...(variant === 'hc' ? { Healthcheck: { Test: ['CMD-SHELL', HC_ARGS.test], Interval: 1 * s, Timeout: 1 * s, Retries: HC_ARGS.retries } } : {}),
      })
      .then((c) => c.start());
  }
  started.then(() => (seen.returned ??= performance.now() - t0), () => undefined);
  try {
    const need: ('returned' | 'running' | 'answers' | 'healthy')[] = ['returned', 'running', 'answers', ...(variant === 'hc' ? (['healthy'] as const) : [])];
    while (!need.every((m) => seen[m] !== undefined)) {
      const tick = performance.now();
      if (tick - t0 > 30_000) throw new Error(`${how} start of ${name} not ready after 30 s: ${JSON.stringify(seen)}`);
      const [c] = await docker.listContainers({ all: true, filters: { name: [`^/${name}$`] } });
      const at = performance.now() - t0;
      if (c) {
        if (c.State === 'running') seen.running ??= at;
        if (variant === 'hc' && /\(healthy\)/.test(c.Status)) seen.healthy ??= at;
        if (seen.answers === undefined && c.State === 'running' && (await answers(publicPort(c), version))) seen.answers = performance.now() - t0;
      }
      const spent = performance.now() - tick;
      if (spent < POLL_MS) await sleep(POLL_MS - spent);
    }
    await started;
  } finally {
    await started.catch(() => undefined);
    await docker.getContainer(name).remove({ force: true }).catch(() => undefined);
  }
  return seen;
}

// ------------------------------------------------------------------ part 2: idle cost

interface ProcTimes {
  cpuTicks: number;
  childTicks: number;
}

async function procTimes(pid: number): Promise<ProcTimes> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
  const f = (n: number) => Number(fields[n - 3]);
  return { cpuTicks: f(14) + f(15), childTicks: f(16) + f(17) };
}

/** CPU time of all threads of pid in ms (sum of /proc/pid/task/<tid>/schedstat), nanosecond-precise. */
async function schedMs(pid: number): Promise<number> {
  let total = 0;
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const text = await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').catch(() => '');
    total += Number(text.split(' ')[0] ?? 0) || 0;
  }
  return total / 1e6;
}

async function rssMb(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? 0) / 1024;
}

/** CPU of one bare `git ls-remote` (user+sys), the mean of n runs measured by bash's `times`. */
async function lsRemoteCpuMs(url: string, n = 20): Promise<number> {
  const { stdout } = await run('bash', ['-c', `for i in $(seq ${n}); do git ls-remote "$1" refs/heads/main >/dev/null; done; times`, 'bench', url]);
  const children = stdout.trim().split('\n').at(-1)!;
  const secs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
  return (secs * 1000) / n;
}

function idleServices(n: number): string {
  return Array.from({ length: n }, (_, i) => `apiVersion: stagecoach/v1\nkind: Service\nname: s${String(i + 1).padStart(2, '0')}\nimage: ${BASE_IMAGE}\ncommand: ["sleep", "86400"]\ninit: true\nstop_grace_period: 1s\n`).join('---\n');
}

async function measureIdle(ctx: Ctx, options: { envs: number; services: number; seconds: number; straceSeconds: number; baselineSeconds: number }): Promise<IdleResult> {
  const { docker, server, cleanup, log, runId } = ctx;
  const names = Array.from({ length: options.envs }, (_, i) => `bdi${runId}${String.fromCharCode(97 + i)}`);
  for (const env of names) cleanup.add(`containers of ${env}`, () => removeEnvironment(docker, env));
  const repo = `idle${runId}`;
  const files: Record<string, string> = {};
  for (const env of names) {
    files[`environments/${env}/environment.yaml`] = environmentYaml(env);
    files[`environments/${env}/services.yaml`] = idleServices(options.services);
  }
  await server.createRepo(repo, files);
  const url = server.url(repo);
  const proxyDir = await mkdtemp(path.join(tmpdir(), 'stagecoach-bench-proxy-'));
  cleanup.add('docker proxy dir', () => rm(proxyDir, { recursive: true, force: true }));
  const upstream = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '');
  if (upstream.includes('://')) throw new Error(`the idle part counts Docker API calls through a unix socket proxy; DOCKER_HOST=${process.env.DOCKER_HOST} is not a unix socket`);
  const proxy = await DockerProxy.start(proxyDir, upstream);
  cleanup.add('docker proxy', () => proxy.close());

  const began = performance.now();
  const daemon = await startDaemon(['--repo', url, '--interval', '1s'], { DOCKER_HOST: `unix://${proxy.socketPath}` }, cleanup);
  log(`idle: daemon ${daemon.pid} deploys ${options.envs} × ${options.services} services (interval 1s)…`);
  await settled(daemon, names, undefined, 600_000);
  const deployMs = performance.now() - began;
  const counters = async () => ({
    loads: await daemon.metric('stagecoach_environment_loads_total'),
    observes: await daemon.metric('stagecoach_environment_observes_total'),
    applies: await daemon.metric('stagecoach_environment_applies_total'),
    fetches: await daemon.metric('stagecoach_git_fetches_total'),
  });
  const delta = (a: Awaited<ReturnType<typeof counters>>, b: Awaited<ReturnType<typeof counters>>) => ({ loads: b.loads - a.loads, observes: b.observes - a.observes, applies: b.applies - a.applies, fetches: b.fetches - a.fetches });
  const marked = await counters();
  log(`idle: deployed and marked in ${formatMs(deployMs)}; letting it go quiet`);
  // Quiet: no fetch for 3 s in a row.
  let fetches = await daemon.metric('stagecoach_git_fetches_total');
  for (let quiet = 0; quiet < 3; ) {
    await sleep(1_000);
    const now = await daemon.metric('stagecoach_git_fetches_total');
    quiet = now === fetches ? quiet + 1 : 0;
    fetches = now;
  }
  const running = await docker.listContainers({ filters: { label: names.map((n) => `${ENV_LABEL}=${n}`).slice(0, 1) } });
  if (running.length !== options.services) throw new Error(`expected ${options.services} running containers in ${names[0]}, found ${running.length}`);

  const quiet = await counters();
  // CPU window: nothing but the daemon's own polling; /metrics is read at both ends only.
  log(`idle: measuring CPU for ${options.seconds} s`);
  const q0 = await daemon.metric('stagecoach_git_remote_queries_total');
  const f0 = await daemon.metric('stagecoach_git_fetches_total');
  const p0 = await procTimes(daemon.pid);
  const t0 = performance.now();
  const calls0 = proxy.calls.length;
  const lines0 = daemon.lines;
  const sched: { at: number; ms: number }[] = [{ at: t0, ms: await schedMs(daemon.pid) }];
  while (performance.now() - t0 < options.seconds * 1000) {
    await sleep(100);
    sched.push({ at: performance.now(), ms: await schedMs(daemon.pid) });
  }
  const p1 = await procTimes(daemon.pid);
  const t1 = performance.now();
  const q1 = await daemon.metric('stagecoach_git_remote_queries_total');
  const windowEnd = await counters();
  const f1 = await daemon.metric('stagecoach_git_fetches_total');
  const logLines = daemon.lines - lines0;
  const windowCalls = proxy.calls.slice(calls0).filter((c) => c.at <= t1);
  const byRoute: Record<string, number> = {};
  for (const c of windowCalls) byRoute[c.route] = (byRoute[c.route] ?? 0) + 1;
  // Calls come in bursts (a drift check); a gap of 300 ms ends one.
  const bursts: { start: number; end: number; size: number }[] = [];
  for (const c of windowCalls) {
    const last = bursts.at(-1);
    if (last && c.at - last.end < 300) {
      last.end = c.at;
      last.size++;
    } else bursts.push({ start: c.at, end: c.at, size: 1 });
  }
  // CPU (schedstat) around each burst: from 200 ms before it (the ls-remote of that poll) to 300 ms after.
  let driftCpuMs = 0;
  for (const b of bursts) {
    const from = [...sched].reverse().find((s) => s.at <= b.start - 200) ?? sched[0]!;
    const to = sched.find((s) => s.at >= b.end + 300) ?? sched.at(-1)!;
    driftCpuMs += to.ms - from.ms;
  }
  const rss = await rssMb(daemon.pid);

  // Process window: strace attached afterwards, so its overhead does not touch the CPU numbers.
  const spawned: Record<string, number> = {};
  let straceWindowMs = 0;
  let stracePolls = 0;
  const straceAvailable = await run('strace', ['-V']).then(() => true, () => false);
  if (straceAvailable) {
    log(`idle: counting spawned processes with strace for ${options.straceSeconds} s`);
    const traceDir = await mkdtemp(path.join(tmpdir(), 'stagecoach-bench-strace-'));
    cleanup.add('strace output', () => rm(traceDir, { recursive: true, force: true }));
    // Polls are counted from just before strace attaches to just after it detached: the trace covers that span.
    const sq0 = await daemon.metric('stagecoach_git_remote_queries_total');
    const st0 = performance.now();
    const strace = spawn('strace', ['-f', '-ff', '-qq', '-e', 'trace=execve', '-e', 'signal=none', '-o', path.join(traceDir, 'trace'), '-p', String(daemon.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let straceErr = '';
    strace.stderr!.on('data', (d: Buffer) => (straceErr += d.toString()));
    const straceExit = new Promise<void>((resolve) => strace.once('exit', () => resolve()));
    cleanup.add('strace', async () => {
      if (strace.exitCode === null && strace.signalCode === null) strace.kill('SIGINT');
      await Promise.race([straceExit, sleep(5_000)]);
    });
    await sleep(options.straceSeconds * 1000);
    strace.kill('SIGINT');
    await straceExit;
    straceWindowMs = performance.now() - st0;
    stracePolls = (await daemon.metric('stagecoach_git_remote_queries_total')) - sq0;
    if (straceErr.trim()) log(`idle: strace said: ${straceErr.trim().split('\n').slice(-2).join(' ')}`);
    const files = await readdir(traceDir);
    if (files.length === 0) throw new Error(`strace wrote nothing (could it attach? ${straceErr.trim()})`);
    for (const file of files) {
      const text = await readFile(path.join(traceDir, file), 'utf8');
      for (const m of text.matchAll(/^execve\("[^"]*", \[([^\]]*)\][^\n]*\) = 0$/gm)) {
        const argv = [...m[1]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((a) => a[1]!);
        const key = argv.slice(0, 2).join(' ') || '(empty argv)';
        spawned[key] = (spawned[key] ?? 0) + 1;
      }
    }
  }
  await daemon.terminate();

  // Baseline: the same daemon (same data dir, same 150 containers) restarted with --interval 1h, so it never
  // polls: what it costs per second to do nothing (timers: prom-client's event-loop-delay monitor, …).
  log(`idle: baseline — the same daemon with --interval 1h (no polls) for ${options.baselineSeconds} s`);
  const still = await startDaemon(['--repo', url, '--interval', '1h'], { DOCKER_HOST: `unix://${proxy.socketPath}` }, cleanup, [], daemon.dataDir);
  await settled(still, names, undefined, 120_000);
  for (let lastCall = proxy.calls.length; ; ) {
    await sleep(2_000);
    if (proxy.calls.length === lastCall) break;
    lastCall = proxy.calls.length;
  }
  const bq0 = await still.metric('stagecoach_git_remote_queries_total');
  const b0 = await procTimes(still.pid);
  const bs0 = await schedMs(still.pid);
  const bt0 = performance.now();
  await sleep(options.baselineSeconds * 1000);
  const b1 = await procTimes(still.pid);
  const bs1 = await schedMs(still.pid);
  const baselineWindowMs = performance.now() - bt0;
  const baselinePolls = (await still.metric('stagecoach_git_remote_queries_total')) - bq0;
  await still.terminate();
  const lsCpu = await lsRemoteCpuMs(url);
  return {
    environments: options.envs,
    services: options.services,
    deployMs,
    windowMs: t1 - t0,
    polls: q1 - q0,
    fetches: f1 - f0,
    cpuMs: ((p1.cpuTicks - p0.cpuTicks) * 1000) / CLK_TCK,
    childCpuMs: ((p1.childTicks - p0.childTicks) * 1000) / CLK_TCK,
    schedCpuMs: sched.at(-1)!.ms - sched[0]!.ms,
    driftChecks: bursts.length,
    work: { sinceStart: windowEnd, afterMarkers: delta(marked, quiet), window: delta(quiet, windowEnd) },
    driftCpuMs,
    dockerCalls: windowCalls.length,
    dockerCallsByRoute: byRoute,
    burstSizes: bursts.map((b) => b.size),
    straceWindowMs,
    stracePolls,
    spawned,
    straceAvailable,
    rssMb: rss,
    logLines,
    baselineWindowMs,
    baselineCpuMs: ((b1.cpuTicks - b0.cpuTicks) * 1000) / CLK_TCK,
    baselineSchedMs: bs1 - bs0,
    baselinePolls,
    lsRemoteCpuMs: lsCpu,
  };
}

// ------------------------------------------------------------------ the run

interface Ctx {
  docker: Docker;
  server: GitServer;
  cleanup: Cleanup;
  log: (m: string) => void;
  image: string;
  runId: string;
}

export async function runDaemonBench(options: DaemonBenchOptions = {}): Promise<{ table: string; latency: LatencySample[]; bounds: BoundSamples; idle: IdleResult | undefined }> {
  const reps = options.reps ?? 5;
  const parts = new Set(options.parts ?? ['latency', 'idle']);
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const runId = randomBytes(3).toString('hex');
  const cleanup = new Cleanup();
  const handle = { cleanup, log };
  active.add(handle);
  const docker = new Docker();
  const latency: LatencySample[] = [];
  const bounds: BoundSamples = { lsRemoteGit: [], lsRemoteLocal: [], dockerRun: { hc: [], nohc: [] }, apiRun: { hc: [], nohc: [] } };
  let idle: IdleResult | undefined;
  try {
    await docker.ping().catch((error: unknown) => {
      throw new Error(`no Docker engine answers (${(error as Error).message}); start one (dockerd) first`);
    });
    await docker.getImage(BASE_IMAGE).inspect().catch(() => {
      throw new Error(`${BASE_IMAGE} is not in the local engine: run scripts/build-local-images.sh`);
    });
    if (!existsSync(path.join(projectRoot, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    const image = `stagecoach-bench/daemon-web:${runId}`;
    cleanup.add(`image ${image}`, () => docker.getImage(image).remove({ force: true }));
    await buildWebImage(docker, image, runId);
    const server = await GitServer.start();
    cleanup.add('git daemon and its repositories', () => server.dispose());
    const ctx: Ctx = { docker, server, cleanup, log, image, runId };
    cleanup.add('lower-bound containers', () => removeEnvironment(docker, `bdb${runId}`));

    if (parts.has('latency')) {
      log(`lower bound: docker run -d / API create+start of ${image}, ${reps}× each, with and without healthcheck`);
      for (const variant of ['hc', 'nohc'] as const) {
        for (let rep = 1; rep <= reps; rep++) {
          bounds.dockerRun[variant].push(await measureDockerRun(ctx, 'cli', variant, rep));
          bounds.apiRun[variant].push(await measureDockerRun(ctx, 'api', variant, rep));
          const c = bounds.dockerRun[variant].at(-1)!;
          log(`  ${variant} ${rep}/${reps}: docker run returned ${formatMs(c.returned!)}, answers ${formatMs(c.answers!)}${variant === 'hc' ? `, healthy ${formatMs(c.healthy!)}` : ''}`);
        }
      }
      await measureLatencyPath('webhook', ctx, reps, latency, bounds.lsRemoteGit);
      await measureLatencyPath('local', ctx, reps, latency, bounds.lsRemoteLocal);
    }
    if (parts.has('idle')) {
      idle = await measureIdle(ctx, {
        envs: options.idleEnvs ?? 3,
        services: options.idleServices ?? 50,
        seconds: options.idleSeconds ?? 30,
        straceSeconds: options.straceSeconds ?? 15,
        baselineSeconds: options.baselineSeconds ?? 15,
      });
    }
  } finally {
    log('cleaning up');
    await cleanup.run(log);
    active.delete(handle);
  }
  return { table: render(latency, bounds, idle, reps), latency, bounds, idle };
}

function render(latency: LatencySample[], bounds: BoundSamples, idle: IdleResult | undefined, reps: number): string {
  const parts: string[] = [];
  if (latency.length > 0) {
    const values = (p: Path, v: Variant, m: Milestone) => latency.filter((s) => s.path === p && s.variant === v).flatMap((s) => (s[m] === undefined ? [] : [s[m]!]));
    const cell = (xs: number[]) => (xs.length ? `${formatMs(median(xs))} (${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))})` : '—');
    const b = (how: 'dockerRun' | 'apiRun', v: Variant, m: 'returned' | 'running' | 'answers' | 'healthy') => bounds[how][v].flatMap((s) => (s[m] === undefined ? [] : [s[m]!]));
    const bm = (how: 'dockerRun' | 'apiRun', v: Variant, m: 'returned' | 'running' | 'answers' | 'healthy') => median(b(how, v, m));
    const ls = { webhook: median(bounds.lsRemoteGit), local: median(bounds.lsRemoteLocal) };
    const GRACE = 2_000;
    type Bound = { label: string; value: (p: Path) => number };
    const rowsFor = (v: Variant): { label: string; m: Milestone; bound?: Bound }[] => [
      { label: 'push → webhook accepted (daemon log)', m: 'accepted' },
      { label: 'push → decision: deploy (daemon log)', m: 'decided', bound: { label: 'ls-remote', value: (p) => ls[p] } },
      { label: 'push → new container created', m: 'created', bound: { label: 'ls-remote', value: (p) => ls[p] } },
      { label: 'push → new container running', m: 'running', bound: { label: 'ls-remote + run→running', value: (p) => ls[p] + bm('dockerRun', v, 'running') } },
      { label: 'push → answers new version', m: 'answers', bound: { label: 'ls-remote + run→answers', value: (p) => ls[p] + bm('dockerRun', v, 'answers') } },
      ...(v === 'hc' ? [{ label: 'push → healthy', m: 'healthy' as const, bound: { label: 'ls-remote + run→healthy', value: (p: Path) => ls[p] + bm('dockerRun', v, 'healthy') } }] : []),
      v === 'hc'
        ? { label: 'push → rollout done (old gone, renamed)', m: 'done', bound: { label: 'ls-remote + run→healthy', value: (p) => ls[p] + bm('dockerRun', v, 'healthy') } }
        : { label: 'push → rollout done (2 s grace, old gone)', m: 'done', bound: { label: 'ls-remote + run→running + 2 s', value: (p) => ls[p] + bm('dockerRun', v, 'running') + GRACE } },
      { label: 'push → marker pushed (status API, 50 ms poll)', m: 'marker' },
    ];
    const ratio = (a: number, bound: number) => (Number.isFinite(a / bound) ? `${(a / bound).toFixed(a / bound >= 10 ? 0 : 1)}×` : '—');
    const body: string[][] = [];
    for (const v of ['hc', 'nohc'] as const) {
      for (const r of rowsFor(v)) {
        const w = values('webhook', v, r.m);
        const l = values('local', v, r.m);
        if (w.length === 0 && l.length === 0) continue;
        body.push([
          v === 'hc' ? 'healthcheck 1s' : 'no healthcheck',
          r.label,
          cell(w),
          cell(l),
          r.bound ? `${r.bound.label} = ${formatMs(r.bound.value('webhook'))} / ${formatMs(r.bound.value('local'))}` : '',
          r.bound ? `${ratio(median(w), r.bound.value('webhook'))} / ${ratio(median(l), r.bound.value('local'))}` : '',
        ]);
      }
    }
    const hooks = latency.flatMap((s) => (s.webhookMs === undefined ? [] : [s.webhookMs]));
    parts.push(
      `commit-to-running latency — median (min–max ms) of ${reps}; the clock starts when \`git push\` returns; engine and HTTP polled every ${POLL_MS} ms; ` +
        `webhook POST answered in ${formatMs(median(hooks))} (median)\n\n` +
        table(['variant', 'measurement', 'webhook (git://)', 'local path (watch)', 'lower bound (webhook / local)', 'ratio (webhook / local)'], body),
    );
    const lb: string[][] = [
      ['git ls-remote refs/heads/main, git:// on 127.0.0.1', cell(bounds.lsRemoteGit)],
      ['git ls-remote refs/heads/main, local bare repo path', cell(bounds.lsRemoteLocal)],
    ];
    for (const v of ['hc', 'nohc'] as const) {
      const tag = v === 'hc' ? 'healthcheck 1s' : 'no healthcheck';
      for (const [how, name] of [['dockerRun', 'docker run -d (CLI)'], ['apiRun', 'API create+start']] as const) {
        lb.push([`${name} → returned (${tag})`, cell(b(how, v, 'returned'))]);
        lb.push([`${name} → running (${tag})`, cell(b(how, v, 'running'))]);
        lb.push([`${name} → answers (${tag})`, cell(b(how, v, 'answers'))]);
        if (v === 'hc') lb.push([`${name} → healthy (${tag})`, cell(b(how, v, 'healthy'))]);
      }
    }
    parts.push(`lower bounds, same run — median (min–max ms) of ${reps}\n\n` + table(['lower bound', 'median'], lb));
  }
  if (idle) {
    const perPoll = (x: number) => x / idle.polls;
    const plainPolls = idle.polls - idle.driftChecks;
    const plainCpu = (idle.schedCpuMs - idle.driftCpuMs) / Math.max(1, plainPolls);
    const driftCpu = idle.driftChecks ? idle.driftCpuMs / idle.driftChecks : Number.NaN;
    const gitSpawned = Object.entries(idle.spawned).filter(([k]) => /(^|\/)git(-[a-z-]+)?( |$)/.test(k)).reduce((s, [, n]) => s + n, 0);
    const allSpawned = Object.values(idle.spawned).reduce((s, n) => s + n, 0);
    const routes = Object.entries(idle.dockerCallsByRoute).sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ×${n}`).join(', ');
    const ratio = (a: number, bound: number) => (Number.isFinite(a / bound) ? `${(a / bound).toFixed(a / bound >= 10 ? 0 : 1)}×` : '—');
    const body: string[][] = [
      ['polls in the window (Δ git_remote_queries_total)', `${idle.polls} in ${formatMs(idle.windowMs)} (${idle.fetches} fetches)`, '', ''],
      ['since start: loads / observes / applies (fetches), each environment deployed and marked once', `${idle.work.sinceStart.loads} / ${idle.work.sinceStart.observes} / ${idle.work.sinceStart.applies} (${idle.work.sinceStart.fetches})`, `${idle.environments} / — / ${idle.environments}`, ''],
      ['after the markers landed, until quiet: loads / observes / applies (fetches)', `${idle.work.afterMarkers.loads} / ${idle.work.afterMarkers.observes} / ${idle.work.afterMarkers.applies} (${idle.work.afterMarkers.fetches})`, '0 / drift checks only / 0', ''],
      ['in the window: loads / observes / applies', `${idle.work.window.loads} / ${idle.work.window.observes} / ${idle.work.window.applies} (${idle.driftChecks} drift checks × ${idle.environments} environments)`, '0 / drift checks only / 0', ''],
      ['daemon CPU per poll (utime+stime, /proc/pid/stat)', formatMs(perPoll(idle.cpuMs)), `1 bare git ls-remote: ${formatMs(idle.lsRemoteCpuMs)} CPU`, ratio(perPoll(idle.cpuMs), idle.lsRemoteCpuMs)],
      ['its git children\'s CPU per poll (cutime+cstime)', formatMs(perPoll(idle.childCpuMs)), `1 bare git ls-remote: ${formatMs(idle.lsRemoteCpuMs)} CPU`, ratio(perPoll(idle.childCpuMs), idle.lsRemoteCpuMs)],
      ['daemon + children CPU per poll', formatMs(perPoll(idle.cpuMs + idle.childCpuMs)), `1 bare git ls-remote: ${formatMs(idle.lsRemoteCpuMs)} CPU`, ratio(perPoll(idle.cpuMs + idle.childCpuMs), idle.lsRemoteCpuMs)],
      ['  ≈ plain poll, daemon CPU (schedstat)', formatMs(plainCpu), '', ''],
      [`  ≈ poll with drift check (every 10th), daemon CPU`, formatMs(driftCpu), '', ''],
      [
        'same daemon, --interval 1h (no polls): CPU per second',
        `${formatMs((idle.baselineCpuMs / idle.baselineWindowMs) * 1000)} (schedstat ${formatMs((idle.baselineSchedMs / idle.baselineWindowMs) * 1000)}; ${idle.baselinePolls} polls in ${formatMs(idle.baselineWindowMs)})`,
        '',
        '',
      ],
      [
        '  ≈ plain poll minus that baseline (per mean poll interval)',
        formatMs(plainCpu - (idle.baselineSchedMs / idle.baselineWindowMs) * (idle.windowMs / idle.polls)),
        `1 bare git ls-remote: ${formatMs(idle.lsRemoteCpuMs)} CPU`,
        ratio(plainCpu - (idle.baselineSchedMs / idle.baselineWindowMs) * (idle.windowMs / idle.polls), idle.lsRemoteCpuMs),
      ],
      [
        'processes spawned per poll (strace -f execve)',
        idle.straceAvailable ? `${(allSpawned / Math.max(1, idle.stracePolls)).toFixed(2)} (${gitSpawned} git of ${allSpawned} execs over ~${idle.stracePolls} polls: ${Object.entries(idle.spawned).map(([k, n]) => `${k} ×${n}`).join(', ')})` : 'strace not installed',
        '1 (the ls-remote)',
        idle.straceAvailable ? ratio(allSpawned / Math.max(1, idle.stracePolls), 1) : '—',
      ],
      ['Docker API calls per poll (all polls)', `${perPoll(idle.dockerCalls).toFixed(1)} (${idle.dockerCalls} calls)`, '0', ''],
      [
        '  polls without any Docker call / drift checks',
        `${Math.max(0, idle.polls - idle.driftChecks)} / ${idle.driftChecks} (calls per drift check: ${idle.burstSizes.join(', ') || '—'})`,
        '',
        '',
      ],
      ['  calls by route', routes || '—', '', ''],
      ['log lines written per poll', (idle.logLines / idle.polls).toFixed(1), '', ''],
      ['daemon RSS while idle', `${idle.rssMb.toFixed(0)} MB`, '', ''],
      [`setup: first deploy of ${idle.environments} × ${idle.services} services + markers`, formatMs(idle.deployMs), '', ''],
    ];
    parts.push(`idle poll cycle — ${idle.environments} environments × ${idle.services} services, --interval 1s, nothing changing\n\n` + table(['measurement', 'value', 'lower bound', 'ratio'], body));
  }
  return parts.join('\n\n');
}

async function describeTool(cmd: string, args: string[]): Promise<string> {
  return run(cmd, args).then(
    (r) => r.stdout.trim().split('\n')[0]!,
    () => 'unknown',
  );
}

async function main(): Promise<number> {
  const num = (name: string, fallback: number) => Math.max(1, Number(process.env[name] ?? fallback) || fallback);
  const parts = (process.env.BENCH_DAEMON_ONLY ?? 'latency,idle').split(',').map((s) => s.trim()).filter((s): s is 'latency' | 'idle' => s === 'latency' || s === 'idle');
  const options: DaemonBenchOptions = {
    reps: num('BENCH_REPS', 5),
    idleEnvs: num('BENCH_IDLE_ENVS', 3),
    idleServices: num('BENCH_IDLE_SERVICES', 50),
    idleSeconds: num('BENCH_IDLE_SECONDS', 30),
    straceSeconds: num('BENCH_STRACE_SECONDS', 15),
    baselineSeconds: num('BENCH_BASELINE_SECONDS', 15),
    parts,
  };
  const stop = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: cleaning up\n`);
    void Promise.all([...active].map((a) => a.cleanup.run(a.log))).finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const meta = {
    date: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    machine: `${cpus().length} cores`,
    docker: await describeTool('docker', ['version', '--format', 'engine {{.Server.Version}}']),
    git: await describeTool('git', ['--version']),
    revision: await describeTool('git', ['-C', projectRoot, 'describe', '--always', '--dirty']),
  };
  const began = performance.now();
  const result = await runDaemonBench(options);
  process.stdout.write(`\nstagecoach daemon benchmark — ${meta.date}; ${meta.machine}; docker ${meta.docker}; ${meta.git}; node ${process.version}; stagecoach ${meta.revision}; took ${formatMs(performance.now() - began)}\n\n${result.table}\n`);
  const resultsDir = path.join(projectRoot, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `daemon-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify({ meta, options, latency: result.latency, bounds: result.bounds, idle: result.idle }, null, 2)}\n`);
  process.stderr.write(`raw samples: ${path.relative(projectRoot, file)}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main();
