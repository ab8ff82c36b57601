// The push-contention benchmark: N clones (N daemons, one per environment)
// each commit M promotion markers and push them concurrently to one bare
// repository the way the daemon does (GitRepository.push: a commit on the
// remote head from git objects; on rejection fetch, rebuild on the new head,
// retry with backoff; never force), over file:// and over a `git daemon` on 127.0.0.1 (git://).
// Reports attempts per push (mean / max), pushes that gave up, wall time, and
// checks that every marker is on the remote exactly once, in a linear history
// (the remote refuses non-fast-forward updates, so a force push would fail).
//
//   npx tsx bench/push-contention.ts
//
// Knobs (environment): BENCH_PUSH_CLONES (default 2,4,8), BENCH_PUSH_MARKERS
// (default 5 per clone), BENCH_PUSH_TRANSPORTS (default file,git),
// BENCH_PUSH_MAX_ATTEMPTS (default 12; backoff 100 ms × 2^(n-1) × jitter). Progress goes to stderr, the table to stdout, raw samples
// to bench/results/ (git-ignored).
//
// From another script: `import { runPushBench } from './push-contention.js'`.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { buildMarker, markerCommitMessage, markerPath, markerYaml } from '../src/promotion/marker.js';
import { GitRepository } from '../src/git/repository.js';
import { GitServer } from '../test/support/git-server.js';
import { mean, percentile, table } from '../test/support/stats.js';

const run = promisify(execFile);
const projectRoot = fileURLToPath(new URL('..', import.meta.url));

export const transports = ['file', 'git'] as const;
export type Transport = (typeof transports)[number];

export interface PushBenchOptions {
  clones?: number[];
  markers?: number;
  transports?: Transport[];
  maxAttempts?: number;
  log?: (message: string) => void;
}

export interface PushScenario {
  transport: Transport;
  clones: number;
  markersPerClone: number;
  /** Attempts of every push that landed. */
  attempts: number[];
  /** Messages of pushes that gave up. */
  failures: string[];
  wallMs: number;
  /** Per push, ms from its first attempt to success. */
  pushMs: number[];
  landedOnce: number;
  missing: string[];
  duplicated: string[];
  merges: number;
}

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

const envName = (i: number) => `env-${String(i).padStart(2, '0')}`;
/** Unique per clone and marker, and readable in the subject's short revision: cc mmmmm. */
const revisionOf = (clone: number, marker: number) => `${clone.toString(16).padStart(2, '0')}${marker.toString(16).padStart(5, '0')}`.padEnd(40, 'e');
const subjectOf = (clone: number, marker: number) => `${envName(clone)}: passed 1/1 tests at ${revisionOf(clone, marker).slice(0, 7)}`;

async function scenario(base: string, transport: Transport, url: (name: string) => string, clones: number, markers: number, push: { maxAttempts?: number }, log: (m: string) => void): Promise<PushScenario> {
  const name = `config-${transport}-${clones}.git`;
  const remote = path.join(base, name);
  await git(base, ['init', '-q', '--bare', '--initial-branch=main', name]);
  await git(remote, ['config', 'receive.denyNonFastForwards', 'true']);
  const seed = await mkdtemp(path.join(tmpdir(), 'stagecoach-bench-seed-'));
  await git(seed, ['init', '-q', '--initial-branch=main']);
  await git(seed, ['config', 'user.name', 'Seed']);
  await git(seed, ['config', 'user.email', 'seed@example.com']);
  await writeFile(path.join(seed, 'README.md'), 'config\n');
  await git(seed, ['add', '.']);
  await git(seed, ['commit', '-q', '-m', 'Initial config']);
  await git(seed, ['push', '-q', remote, 'main']);
  await rm(seed, { recursive: true, force: true });

  const dirs: string[] = [];
  for (let i = 1; i <= clones; i++) {
    const dir = path.join(base, `clone-${transport}-${clones}-${i}`);
    await git(base, ['clone', '-q', url(name), dir]);
    await git(dir, ['config', 'user.name', `Daemon ${envName(i)}`]);
    await git(dir, ['config', 'user.email', `${envName(i)}@example.com`]);
    await mkdir(path.join(dir, 'promotions'), { recursive: true });
    dirs.push(dir);
  }

  const attempts: number[] = [];
  const pushMs: number[] = [];
  const failures: string[] = [];
  const began = performance.now();
  await Promise.all(
    dirs.map(async (dir, index) => {
      const clone = index + 1;
      const repo = new GitRepository({ dir, branch: 'main' });
      for (let m = 1; m <= markers; m++) {
        const at = new Date();
        const marker = buildMarker({
          environment: envName(clone),
          revision: revisionOf(clone, m),
          startedAt: at,
          finishedAt: at,
          trigger: 'bench',
          services: { web: { image: `shop/web:${m}`, digest: null, imageId: null } },
          tests: [{ name: 'home', kind: 'http', result: 'passed', durationMs: 5, attempts: 1, message: '200 from GET http://web/' }],
        });
        try {
          // As the daemon pushes a marker: committed on the remote head from git objects, rebuilt on the new head when rejected.
          const changes = { [markerPath(marker.environment)]: markerYaml(marker) };
          const outcome = await repo.push({ branch: 'main', message: markerCommitMessage(marker), changes: async () => changes, ...(push.maxAttempts ? { maxAttempts: push.maxAttempts } : {}) });
          attempts.push(outcome.attempts);
          pushMs.push(outcome.durationMs);
        } catch (error) {
          failures.push(`${envName(clone)} marker ${m}: ${(error as Error).message.split('\n')[0]}`);
          // What the daemon does: the marker stays in its outbox and goes out at the next cycle.
        }
      }
    }),
  );
  const wallMs = performance.now() - began;

  const subjects = (await git(remote, ['log', '--format=%s', 'main'])).split('\n');
  const counts = new Map<string, number>();
  for (const s of subjects) counts.set(s, (counts.get(s) ?? 0) + 1);
  const missing: string[] = [];
  const duplicated: string[] = [];
  let landedOnce = 0;
  for (let c = 1; c <= clones; c++) {
    for (let m = 1; m <= markers; m++) {
      const n = counts.get(subjectOf(c, m)) ?? 0;
      if (n === 0) missing.push(subjectOf(c, m));
      else if (n > 1) duplicated.push(`${subjectOf(c, m)} ×${n}`);
      else landedOnce++;
    }
  }
  const merges = Number(await git(remote, ['rev-list', '--merges', '--count', 'main']));
  const result: PushScenario = { transport, clones, markersPerClone: markers, attempts, failures, wallMs, pushMs, landedOnce, missing, duplicated, merges };
  log(`push ${transport}://, ${clones} clones × ${markers}: ${attempts.length} pushes landed, ${failures.length} gave up, attempts mean ${mean(attempts).toFixed(2)} max ${Math.max(0, ...attempts)}, ${(wallMs / 1000).toFixed(2)} s; remote: ${landedOnce}/${clones * markers} exactly once${missing.length ? `, ${missing.length} missing` : ''}${duplicated.length ? `, ${duplicated.length} duplicated` : ''}`);
  return result;
}

function secs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export async function runPushBench(options: PushBenchOptions = {}): Promise<{ scenarios: PushScenario[]; table: string; ok: boolean }> {
  const cloneCounts = options.clones ?? [2, 4, 8];
  const markers = options.markers ?? 5;
  const which = options.transports ?? [...transports];
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const push = { ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}) };
  // The loopback git daemon serves its own folder; the file:// transport uses the same folder.
  const server = await GitServer.start();
  const base = server.baseDir;
  const scenarios: PushScenario[] = [];
  try {
    for (const transport of which) {
      const url = transport === 'git' ? (name: string) => `git://127.0.0.1:${server.port}/${name}` : (name: string) => pathToFileURL(path.join(base, name)).href;
      for (const n of cloneCounts) scenarios.push(await scenario(base, transport, url, n, markers, push, log));
    }
  } finally {
    await server.dispose();
  }
  const header = ['transport', 'clones × markers', 'pushes landed', 'gave up', 'attempts mean', 'attempts max', 'push p50 / p95 / max', 'wall time', 'markers/s', 'on remote exactly once', 'merges'];
  const body = scenarios.map((s) => [
    `${s.transport}://`,
    `${s.clones} × ${s.markersPerClone}`,
    String(s.attempts.length),
    String(s.failures.length),
    mean(s.attempts).toFixed(2),
    String(Math.max(0, ...s.attempts)),
    `${secs(percentile(s.pushMs, 50))} / ${secs(percentile(s.pushMs, 95))} / ${secs(Math.max(0, ...s.pushMs))}`,
    secs(s.wallMs),
    ((s.clones * s.markersPerClone) / (s.wallMs / 1000)).toFixed(1),
    `${s.landedOnce}/${s.clones * s.markersPerClone}${s.missing.length ? ` (${s.missing.length} missing)` : ''}${s.duplicated.length ? ` (${s.duplicated.length} dup)` : ''}`,
    String(s.merges),
  ]);
  const ok = scenarios.every((s) => s.missing.length === 0 && s.duplicated.length === 0 && s.merges === 0);
  return { scenarios, table: table(header, body), ok };
}

async function main(): Promise<number> {
  const list = (v: string | undefined, fallback: string) => (v ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
  const clones = list(process.env.BENCH_PUSH_CLONES, '2,4,8').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const markers = Math.max(1, Number(process.env.BENCH_PUSH_MARKERS ?? 5) || 5);
  const which = list(process.env.BENCH_PUSH_TRANSPORTS, 'file,git').filter((t): t is Transport => (transports as readonly string[]).includes(t));
  const maxAttempts = Number(process.env.BENCH_PUSH_MAX_ATTEMPTS ?? 0) || undefined;
  const gitVersion = await run('git', ['--version']).then((r) => r.stdout.trim(), () => 'git unknown');
  const revision = await run('git', ['-C', projectRoot, 'describe', '--always', '--dirty']).then((r) => r.stdout.trim(), () => 'unknown');
  const result = await runPushBench({ clones, markers, transports: which, ...(maxAttempts ? { maxAttempts } : {}) });
  const settings = `GitRepository.push maxAttempts ${maxAttempts ?? '12 (default)'}, backoff 100 ms × 2^(n-1) × jitter 0.5–1.5`;
  process.stdout.write(
    `\nstagecoach push-contention benchmark — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${cpus().length} cores; ${gitVersion}; node ${process.version}; stagecoach ${revision}\n` +
      `every clone commits a marker and pushes it, ${markers} times in a row, all clones at once; ${settings}\n\n${result.table}\n`,
  );
  const failures = result.scenarios.flatMap((s) => s.failures.map((f) => `${s.transport}:// ${s.clones} clones: ${f}`));
  if (failures.length) process.stdout.write(`\npushes that gave up (their commits stay local and go out with that clone's next push):\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
  if (!result.ok) process.stdout.write('\nFAILED: a marker is missing or duplicated on the remote, or the history has merges.\n');
  const resultsDir = path.join(projectRoot, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `push-contention-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify({ clones, markers, transports: which, maxAttempts, scenarios: result.scenarios }, null, 2)}\n`);
  process.stderr.write(`raw samples: ${path.relative(projectRoot, file)}\n`);
  return result.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main();
