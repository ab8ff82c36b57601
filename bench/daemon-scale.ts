// The scale benchmark: a daemon idling over 1,000 services.
//
// A local bare config repo holds BENCH_SCALE_ENVS environments × BENCH_SCALE_SERVICES
// services (default 10 × 100): `busybox:1.35 sleep 86400`, `init: true`, no
// healthcheck, no ports, each labelled stagecoach-bench.run=<run>. The real
// daemon (`node bin/stagecoach.js run --repo <bare repo> --interval 1s`)
// deploys them all and pushes its markers; once it has been quiet for 3 s (no
// fetch, no Docker call), the bench watches BENCH_SCALE_POLLS polls and reads:
//
// * RSS: VmRSS (and the peak, VmHWM) from /proc/<pid>/status, and the V8 heap
//   from the daemon's /metrics (nodejs_heap_size_used_bytes, …).
// * CPU per poll: Δ utime+stime of the daemon (/proc/<pid>/stat) and Δ
//   cutime+cstime of its reaped children (the git processes it spawns),
//   divided by the polls (Δ stagecoach_git_remote_queries_total); against the
//   CPU of one bare `git ls-remote <bare repo> refs/heads/main` measured in the
//   same run (bash `times` over 20 runs: user+sys of its children; before and
//   after the window, the lower of the two).
// * Docker API calls per drift check: Δ stagecoach_docker_api_calls_total (by
//   operation) over Δ stagecoach_environment_observes_total (one observe per
//   environment per drift check; every 10th poll is one).
//
//   npm run bench:scale          # ~10 minutes on 2 cores, most of it creating and removing 1,000 containers
//
// Knobs: BENCH_SCALE_ENVS (10), BENCH_SCALE_SERVICES (100), BENCH_SCALE_POLLS (30),
// BENCH_SCALE_KEEP=1 leaves the repo and containers for another run,
// BENCH_SCALE_REUSE=<run> measures again over them (a fresh daemon and data dir)
// and removes them afterwards unless BENCH_SCALE_KEEP=1. The daemon runs with the
// node flags of `npm start` (package.json), as a user's daemon does;
// BENCH_SCALE_NODE_FLAGS replaces them ('' for none) to compare V8 flags;
// BENCH_SCALE_RESYNC sets the daemon's STAGECOACH_RESYNC (0s: every periodic drift check lists);
// BENCH_SCALE_SETTLE_S leaves the daemon idle that long before the window (default 0).
// Progress goes to stderr, the table to stdout, raw numbers to bench/results/.
// Cleanup (also on Ctrl-C): containers by stagecoach-bench.run=<run> in batches
// of 20 (Docker 20.10 can wedge under a bulk stop), networks by
// io.stagecoach.environment=<env>, the daemon, its data dir and the repo.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { DaemonProcess, projectRoot, stagecoachBin } from '../test/support/daemon-process.js';
import { parseMetrics } from '../test/support/prometheus.js';
import { formatMs, table } from '../test/support/stats.js';
import { sleep, waitFor } from '../test/support/wait.js';

const run = promisify(execFile);
const CLK_TCK = 100;
const BENCH_LABEL = 'stagecoach-bench.run';
const ENV_LABEL = 'io.stagecoach.environment';
const identity = { GIT_AUTHOR_NAME: 'Bench User', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'Bench User', GIT_COMMITTER_EMAIL: 'bench@example.com' };
const log = (m: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${m}\n`);

export interface ScaleResult {
  environments: number;
  services: number;
  deployMs: number | null;
  polls: number;
  windowMs: number;
  fetches: number;
  cpuMs: number;
  childCpuMs: number;
  lsRemoteCpuMs: number;
  observes: number;
  /** Periodic drift checks of quiet environments, by what settled them: a list call, or the engine's events vouching. */
  periodic: { list: number; events: number };
  /** STAGECOACH_RESYNC the daemon ran with ('' = its default). */
  resync: string;
  /** Seconds the daemon was left idle after its first 3 quiet seconds, before the window. */
  settleS: number;
  dockerCalls: Record<string, number>;
  rssMb: number;
  peakRssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
}

const envNames = (run: string, n: number) => Array.from({ length: n }, (_, i) => `bs${run}${String(i).padStart(2, '0')}`);

function servicesYaml(run: string, n: number): string {
  return Array.from({ length: n }, (_, i) => `apiVersion: stagecoach/v1\nkind: Service\nname: s${String(i).padStart(3, '0')}\nimage: busybox:1.35\ncommand: ["sleep", "86400"]\ninit: true\nstop_grace_period: 1s\nlabels:\n  ${BENCH_LABEL}: "${run}"\n`).join('---\n');
}

async function git(cwd: string, args: string[]): Promise<string> {
  return (await run('git', args, { cwd, env: { ...process.env, ...identity }, maxBuffer: 64 << 20 })).stdout.trim();
}

/** A bare repo with the environments, committed by a user clone. */
async function createRepo(dir: string, run: string, envs: number, services: number): Promise<string> {
  const bare = path.join(dir, 'config.git');
  const work = path.join(dir, 'work');
  await git(dir, ['init', '-q', '--bare', '--initial-branch=main', bare]);
  await git(dir, ['clone', '-q', bare, work]);
  for (const env of envNames(run, envs)) {
    await mkdir(path.join(work, 'environments', env), { recursive: true });
    await writeFile(path.join(work, 'environments', env, 'environment.yaml'), `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\n`);
    await writeFile(path.join(work, 'environments', env, 'services.yaml'), servicesYaml(run, services));
  }
  await git(work, ['add', '-A']);
  await git(work, ['commit', '-q', '-m', `bench: ${envs} × ${services} services`]);
  await git(work, ['push', '-q', 'origin', 'HEAD:main']);
  return bare;
}

async function removeAll(docker: Docker, run: string, envs: string[]): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`${BENCH_LABEL}=${run}`] } });
  for (let i = 0; i < containers.length; i += 20) {
    await Promise.all(containers.slice(i, i + 20).map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  }
  for (const env of envs) {
    for (const n of await docker.listNetworks({ filters: { label: [`${ENV_LABEL}=${env}`] } })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  }
  log(`cleanup: removed ${containers.length} containers of run ${run}`);
}

async function procTimes(pid: number): Promise<{ cpu: number; child: number }> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ').map(Number);
  // f[0] is field 3 (state): utime 14, stime 15, cutime 16, cstime 17.
  return { cpu: ((f[11]! + f[12]!) * 1000) / CLK_TCK, child: ((f[13]! + f[14]!) * 1000) / CLK_TCK };
}

async function memory(pid: number): Promise<{ rss: number; hwm: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(text)?.[1] ?? 0) / 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** CPU (user+sys) of one bare `git ls-remote`: the mean of n runs, from bash's `times` (its children). */
async function lsRemoteCpuMs(url: string, n = 20): Promise<number> {
  const { stdout } = await run('bash', ['-c', `for i in $(seq ${n}); do git ls-remote "$1" refs/heads/main >/dev/null; done; times`, 'bench', url]);
  const children = stdout.trim().split('\n').at(-1)!;
  return ([...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((s, m) => s + Number(m[1]) * 60 + Number(m[2]), 0) * 1000) / n;
}

async function metrics(daemon: DaemonProcess): Promise<Map<string, number>> {
  const sums = new Map<string, number>();
  for (const s of parseMetrics(await (await fetch(`${daemon.base}/metrics`)).text())) {
    const op = /(?:operation|by)="([^"]+)"/.exec(s.labels)?.[1];
    const key = op ? `${s.name}:${op}` : s.name;
    sums.set(key, (sums.get(key) ?? 0) + s.value);
    if (op) sums.set(s.name, (sums.get(s.name) ?? 0) + s.value);
  }
  return sums;
}

async function settled(daemon: DaemonProcess, envs: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const st = await daemon.status().catch(() => undefined);
    const all = envs.map((name) => st?.environments.find((x) => x.name === name));
    const invalid = all.find((e) => e?.state === 'invalid');
    if (invalid) throw new Error(`${invalid.name} is invalid: ${invalid.errors.join('; ')}`);
    if (all.every((e) => e && e.state === 'synced' && e.lastMarker && e.lastMarker.revision === e.revision.applied)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${envs.length} environments to be deployed and marked\n${daemon.tail()}`);
    await sleep(1_000);
  }
}

/** The node flags `npm start` runs the daemon with (`node FLAGS bin/stagecoach.js run`). */
export async function startFlags(): Promise<string[]> {
  const pkg = JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const m = /^node((?: --?[\w-]+(?:=\S+)?)*) bin\/stagecoach\.js run$/.exec(pkg.scripts.start ?? '');
  if (!m) throw new Error(`package.json "start" is not \`node [flags] bin/stagecoach.js run\`: ${pkg.scripts.start}`);
  return m[1]!.trim().split(' ').filter(Boolean);
}

export async function runScaleBench(o: { envs: number; services: number; polls: number; keep: boolean; reuse?: string; nodeFlags: string[]; resync?: string; settleS: number }): Promise<ScaleResult> {
  const runId = o.reuse ?? randomBytes(3).toString('hex');
  const dir = path.join(tmpdir(), `stagecoach-bench-scale-${runId}`);
  const envs = envNames(runId, o.envs);
  const docker = new Docker();
  let daemon: DaemonProcess | undefined;
  const cleanup = async () => {
    await daemon?.terminate().catch(() => undefined);
    if (daemon) await rm(daemon.dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    if (o.keep) return log(`kept run ${runId}: BENCH_SCALE_REUSE=${runId} measures again over it`);
    await removeAll(docker, runId, envs);
    await rm(dir, { recursive: true, force: true });
  };
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    let bare = path.join(dir, 'config.git');
    if (!o.reuse) {
      await mkdir(dir, { recursive: true });
      bare = await createRepo(dir, runId, o.envs, o.services);
    } else if (!existsSync(bare)) throw new Error(`BENCH_SCALE_REUSE=${o.reuse}: no repo at ${bare}`);
    const began = performance.now();
    daemon = await DaemonProcess.start(['--repo', bare, '--interval', '1s'], o.resync ? { STAGECOACH_RESYNC: o.resync } : {}, { command: [process.execPath, ...o.nodeFlags, stagecoachBin, 'run'] });
    log(`daemon ${daemon.pid} ${o.reuse ? 'takes over' : 'deploys'} ${o.envs} × ${o.services} services (run ${runId})…`);
    await settled(daemon, envs, 1_800_000);
    const deployMs = performance.now() - began;
    log(`deployed and marked in ${formatMs(deployMs)}; waiting for 3 quiet seconds`);
    for (let quiet = 0, last = ''; quiet < 3; ) {
      await sleep(1_000);
      const m = await metrics(daemon);
      const now = `${m.get('stagecoach_git_fetches_total')}/${m.get('stagecoach_docker_api_calls_total')}`;
      quiet = now === last ? quiet + 1 : 0;
      last = now;
    }
    if (o.settleS > 0) {
      log(`leaving it idle ${o.settleS} s before measuring (BENCH_SCALE_SETTLE_S)`);
      await sleep(o.settleS * 1_000);
    }
    const running = await docker.listContainers({ filters: { label: [`${BENCH_LABEL}=${runId}`] } });
    if (running.length !== o.envs * o.services) throw new Error(`expected ${o.envs * o.services} running containers, found ${running.length}`);
    log(`measuring ${o.polls} polls`);
    // The bound is measured before and after the window; the lower is taken (the machine may be busy with other work in one of them).
    const lsBefore = await lsRemoteCpuMs(bare);
    const m0 = await metrics(daemon);
    const p0 = await procTimes(daemon.pid);
    const t0 = performance.now();
    const q0 = m0.get('stagecoach_git_remote_queries_total') ?? 0;
    // /metrics is read rarely in the window: every scrape costs the daemon CPU and garbage of its own.
    await sleep(o.polls * 1_000);
    await waitFor(async () => ((await metrics(daemon!)).get('stagecoach_git_remote_queries_total') ?? 0) - q0 >= o.polls || undefined, { timeoutMs: o.polls * 5_000, intervalMs: 2_000, what: `${o.polls} polls` });
    const p1 = await procTimes(daemon.pid);
    const t1 = performance.now();
    const m1 = await metrics(daemon);
    const mem = await memory(daemon.pid);
    const d = (key: string) => (m1.get(key) ?? 0) - (m0.get(key) ?? 0);
    const dockerCalls: Record<string, number> = { total: d('stagecoach_docker_api_calls_total') };
    for (const key of m1.keys()) if (key.startsWith('stagecoach_docker_api_calls_total:') && d(key) > 0) dockerCalls[key.split(':')[1]!] = d(key);
    const lsCpu = Math.min(lsBefore, await lsRemoteCpuMs(bare));
    const mb = (key: string) => (m1.get(key) ?? 0) / 1024 / 1024;
    return {
      environments: o.envs,
      services: o.services,
      deployMs: o.reuse ? null : deployMs,
      polls: d('stagecoach_git_remote_queries_total'),
      windowMs: t1 - t0,
      fetches: d('stagecoach_git_fetches_total'),
      cpuMs: p1.cpu - p0.cpu,
      childCpuMs: p1.child - p0.child,
      lsRemoteCpuMs: lsCpu,
      observes: d('stagecoach_environment_observes_total'),
      periodic: { list: d('stagecoach_periodic_drift_checks_total:list'), events: d('stagecoach_periodic_drift_checks_total:events') },
      resync: o.resync ?? '',
      settleS: o.settleS,
      dockerCalls,
      rssMb: mem.rss,
      peakRssMb: mem.hwm,
      heapUsedMb: mb('nodejs_heap_size_used_bytes'),
      heapTotalMb: mb('nodejs_heap_size_total_bytes'),
      externalMb: mb('nodejs_external_memory_bytes'),
    };
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

const ratio = (value: number, bound: number) => (bound > 0 ? `${(value / bound).toFixed(1)}×` : '—');

export function renderScale(r: ScaleResult): string {
  const perPoll = (x: number) => x / Math.max(1, r.polls);
  const checks = r.observes / r.environments;
  const calls = r.dockerCalls.total ?? 0;
  const byOp = Object.entries(r.dockerCalls).filter(([k]) => k !== 'total').map(([k, n]) => `${k} ×${n}`).join(', ') || 'none';
  const body = [
    ['polls measured (Δ git_remote_queries_total)', `${r.polls} in ${formatMs(r.windowMs)} (${r.fetches} fetches)${r.settleS ? `, after ${r.settleS} s idle` : ''}`, '', ''],
    ['daemon RSS (VmRSS) after the polls', `${r.rssMb.toFixed(0)} MB (peak ${r.peakRssMb.toFixed(0)} MB)`, '< 80 MB', ratio(r.rssMb, 80)],
    ['V8 heap used / total; external', `${r.heapUsedMb.toFixed(1)} / ${r.heapTotalMb.toFixed(1)} MB; ${r.externalMb.toFixed(1)} MB`, '', ''],
    ['daemon CPU per poll (utime+stime)', formatMs(perPoll(r.cpuMs)), `1 bare git ls-remote: ${formatMs(r.lsRemoteCpuMs)}`, ratio(perPoll(r.cpuMs), r.lsRemoteCpuMs)],
    ['its git children per poll (cutime+cstime)', formatMs(perPoll(r.childCpuMs)), `1 bare git ls-remote: ${formatMs(r.lsRemoteCpuMs)}`, ratio(perPoll(r.childCpuMs), r.lsRemoteCpuMs)],
    ['daemon + children CPU per poll', formatMs(perPoll(r.cpuMs + r.childCpuMs)), `≤ 2 × ${formatMs(r.lsRemoteCpuMs)}`, ratio(perPoll(r.cpuMs + r.childCpuMs), r.lsRemoteCpuMs)],
    ['drift checks in the window (Δ observes ÷ environments)', checks.toFixed(1), '', ''],
    [`periodic checks of an environment${r.resync ? ` (STAGECOACH_RESYNC=${r.resync})` : ''}`, `${r.periodic.list + r.periodic.events}: ${r.periodic.list} listed, ${r.periodic.events} vouched for by engine events`, '', ''],
    ['Docker API calls per listed drift check', checks ? `${(calls / checks).toFixed(1)} (${byOp})` : `none listed in the window (${calls} calls)`, `≤ ${r.environments} (1 per environment)`, checks ? ratio(calls / checks, r.environments) : '—'],
    ['setup: first deploy of all services + markers', r.deployMs === null ? 'reused' : formatMs(r.deployMs), '', ''],
  ];
  return `idle daemon — ${r.environments} environments × ${r.services} services, --interval 1s, local bare repo, nothing changing\n\n${table(['measurement', 'value', 'target / bound', 'ratio'], body)}`;
}

async function main(): Promise<number> {
  const num = (name: string, fallback: number) => Math.max(1, Number(process.env[name] ?? fallback) || fallback);
  const options = {
    envs: num('BENCH_SCALE_ENVS', 10),
    services: num('BENCH_SCALE_SERVICES', 100),
    polls: num('BENCH_SCALE_POLLS', 30),
    keep: process.env.BENCH_SCALE_KEEP === '1',
    reuse: process.env.BENCH_SCALE_REUSE || undefined,
    nodeFlags: process.env.BENCH_SCALE_NODE_FLAGS !== undefined ? process.env.BENCH_SCALE_NODE_FLAGS.split(' ').filter(Boolean) : await startFlags(),
    resync: process.env.BENCH_SCALE_RESYNC || undefined,
    settleS: Math.max(0, Number(process.env.BENCH_SCALE_SETTLE_S ?? 0) || 0),
  };
  const describe = (cmd: string, args: string[]) => run(cmd, args).then((r) => r.stdout.trim().split('\n')[0]!, () => 'unknown');
  const meta = {
    date: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    machine: `${cpus().length} cores`,
    docker: await describe('docker', ['version', '--format', '{{.Server.Version}}']),
    git: await describe('git', ['--version']),
    revision: await describe('git', ['-C', projectRoot, 'describe', '--always', '--dirty']),
  };
  const result = await runScaleBench(options);
  process.stdout.write(`\nstagecoach scale benchmark — ${meta.date}; ${meta.machine}; docker ${meta.docker}; ${meta.git}; node ${process.version}; stagecoach ${meta.revision}; daemon: node ${[...options.nodeFlags, 'bin/stagecoach.js run'].join(' ')}\n\n${renderScale(result)}\n`);
  const resultsDir = path.join(projectRoot, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `scale-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify({ meta, options, result }, null, 2)}\n`);
  process.stderr.write(`raw numbers: ${path.relative(projectRoot, file)}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main();
