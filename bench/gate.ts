// The gate benchmark: how the promotion gate's cost grows with the number of
// marker commits in the config repo. Builds real git repositories with 10 and
// with 10,000 marker commits (each changing promotions/testing.yaml, with the
// trailers markerCommitMessage() writes, made with `git fast-import`), then
// measures the MarkerIndex's first refresh (full build), an incremental
// refresh after one new marker, a refresh with nothing new, and a gate lookup
// (gateReasons) — medians over a few runs — and prints them side by side with
// the ratio 10,000 : 10.
//
//   npx tsx bench/gate.ts
//
// Knobs (environment): BENCH_GATE_SIZES (default 10,10000; the first and last
// are compared), BENCH_REPS (default 5) runs per measurement, BENCH_GATE_LOOKUPS
// (default 20000) gate checks per lookup sample. Progress goes to stderr, the
// table to stdout, raw samples to bench/results/ (git-ignored).
//
// From another script: `import { runGateBench } from './gate.js'` returns the
// rows and the rendered table without touching process.exitCode.
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { memoryRepo } from '../src/manifest/files.js';
import { loadRepo } from '../src/manifest/load.js';
import { compileSchemas } from '../src/manifest/schemas.js';
import type { LoadedEnvironment } from '../src/manifest/types.js';
import { gateReasons } from '../src/promotion/gate.js';
import { buildMarker, markerCommitMessage, markerPath, markerYaml } from '../src/promotion/marker.js';
import type { PromotionMarker } from '../src/promotion/marker.js';
import { MarkerIndex } from '../src/promotion/marker-index.js';
import { GitRepository } from '../src/git/repository.js';
import { median, table } from '../test/support/stats.js';

export { median };

/** A MarkerIndex over a clone, refreshed to whatever HEAD is (as the daemon refreshes it to the followed head). */
function indexIn(dir: string) {
  const repo = new GitRepository({ dir, branch: 'main' });
  const index = new MarkerIndex(repo);
  return Object.assign(index, { refresh: async () => MarkerIndex.prototype.refresh.call(index, await repo.resolve('HEAD')) });
}

const run = promisify(execFile);
const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const identity = { GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.com' };

export interface GateBenchOptions {
  sizes?: number[];
  reps?: number;
  lookups?: number;
  log?: (message: string) => void;
}

export interface GateRow {
  measurement: string;
  /** size → samples in ms */
  samples: Record<number, number[]>;
  /** What each sample returned, to show the work was done (e.g. markers read). */
  check: Record<number, string>;
}

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: { ...process.env, ...identity }, maxBuffer: 256 * 1024 * 1024 });
  return stdout.trim();
}

/** Marker i of the history: testing ran web app:i (and a worker that never changes); every 10th one failed. */
function markerAt(i: number): PromotionMarker {
  const revision = i.toString(16).padStart(8, '0').padEnd(40, 'f');
  const at = new Date(Date.UTC(2026, 0, 1) + i * 60_000);
  const passed = i % 10 !== 0;
  return buildMarker({
    environment: 'testing',
    revision,
    startedAt: at,
    finishedAt: new Date(at.getTime() + 2_500),
    trigger: 'deploy',
    services: {
      web: { image: `registry.example.com/shop/web:1.${i}`, digest: `sha256:${i.toString(16).padStart(64, '0')}`, imageId: null },
      worker: { image: 'registry.example.com/shop/worker:7', digest: null, imageId: null },
    },
    tests: [
      { name: 'home', kind: 'http', result: 'passed', durationMs: 41, attempts: 1, message: '200 from GET http://web/' },
      { name: 'checkout', kind: 'http', result: passed ? 'passed' : 'failed', durationMs: 87, attempts: passed ? 1 : 3, message: passed ? '200 from POST http://web/checkout' : 'expected 200, got 503 from POST http://web/checkout' },
    ],
  });
}

const manifests: Record<string, string> = {
  'environments/testing/environment.yaml': 'apiVersion: stagecoach/v1\nkind: Environment\nname: testing\n',
  'environments/testing/web.yaml': 'apiVersion: stagecoach/v1\nkind: Service\nname: web\nimage: registry.example.com/shop/web:1.0\n',
  'environments/staging/environment.yaml': 'apiVersion: stagecoach/v1\nkind: Environment\nname: staging\npromotion:\n  from: testing\n',
};

/** A repo whose main holds the manifests, then `count` marker commits, written with one `git fast-import`. */
async function buildRepo(count: number): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `stagecoach-bench-gate-${count}-`));
  await git(dir, ['init', '-q', '--initial-branch=main']);
  await git(dir, ['config', 'user.name', identity.GIT_AUTHOR_NAME]);
  await git(dir, ['config', 'user.email', identity.GIT_AUTHOR_EMAIL]);
  const parts: Buffer[] = [];
  const data = (text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    parts.push(Buffer.from(`data ${bytes.length}\n`), bytes, Buffer.from('\n'));
  };
  const start = Math.floor(Date.UTC(2026, 0, 1) / 1000);
  const header = (n: number) => `commit refs/heads/main\nmark :${n + 1}\nauthor Bench <bench@example.com> ${start + n * 60} +0000\ncommitter Bench <bench@example.com> ${start + n * 60} +0000\n`;
  parts.push(Buffer.from(header(0)));
  data('Initial config\n');
  for (const [file, text] of Object.entries(manifests)) {
    parts.push(Buffer.from(`M 100644 inline ${file}\n`));
    data(text);
  }
  for (let i = 1; i <= count; i++) {
    const marker = markerAt(i);
    parts.push(Buffer.from(header(i)));
    data(markerCommitMessage(marker));
    parts.push(Buffer.from(`M 100644 inline ${markerPath('testing')}\n`));
    data(markerYaml(marker));
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawn('git', ['fast-import', '--quiet'], { cwd: dir, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import exited ${code}: ${stderr}`))));
    child.stdin.end(Buffer.concat(parts));
  });
  await git(dir, ['checkout', '-q', '-f', 'main']);
  return dir;
}

/** One more marker, committed the way the daemon does it (write the file, add, commit with the trailers). */
async function commitOneMore(dir: string, i: number): Promise<void> {
  const marker = markerAt(i);
  await writeFile(path.join(dir, markerPath('testing')), markerYaml(marker));
  await git(dir, ['add', markerPath('testing')]);
  await git(dir, ['commit', '-q', '-m', markerCommitMessage(marker)]);
}

/** staging runs web at a version testing passed (1.1), one it failed (1.10 when it exists) and a worker it always ran. */
async function stagingEnv(count: number): Promise<{ env: LoadedEnvironment; digests: Record<string, string | null> }> {
  const failedVersion = count >= 10 ? 10 : 1;
  const files: Record<string, string> = {
    ...manifests,
    'environments/staging/web.yaml': 'apiVersion: stagecoach/v1\nkind: Service\nname: web\nimage: registry.example.com/shop/web:1.1\n',
    'environments/staging/web-canary.yaml': `apiVersion: stagecoach/v1\nkind: Service\nname: web-canary\nimage: registry.example.com/shop/web:1.${failedVersion}\n`,
    'environments/staging/worker.yaml': 'apiVersion: stagecoach/v1\nkind: Service\nname: worker\nimage: registry.example.com/shop/worker:7\n',
  };
  const result = await loadRepo(memoryRepo(files), compileSchemas(), ['testing', 'staging']);
  const env = result.environments.find((e) => e.name === 'staging')?.loaded;
  if (!env) throw new Error(`staging did not load: ${JSON.stringify(result.problems)}`);
  const digests = { 'registry.example.com/shop/web:1.1': `sha256:${(1).toString(16).padStart(64, '0')}`, [`registry.example.com/shop/web:1.${failedVersion}`]: null, 'registry.example.com/shop/worker:7': null };
  return { env, digests };
}

function ms(value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (value < 0.01) return `${(value * 1000).toFixed(2)} µs`;
  if (value < 1) return `${(value * 1000).toFixed(0)} µs`;
  if (value < 1000) return `${value.toFixed(value < 10 ? 2 : 0)} ms`;
  return `${(value / 1000).toFixed(2)} s`;
}

export async function runGateBench(options: GateBenchOptions = {}): Promise<{ rows: GateRow[]; setupMs: Record<number, number>; table: string }> {
  const sizes = options.sizes ?? [10, 10_000];
  const reps = options.reps ?? 5;
  const lookups = options.lookups ?? 20_000;
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const rows: GateRow[] = ['first refresh (full build)', 'incremental refresh, 1 new marker', 'refresh, nothing new', 'gate lookup (gateReasons, 3 services)'].map((measurement) => ({ measurement, samples: {}, check: {} }));
  const [full, incremental, idle, lookup] = rows as [GateRow, GateRow, GateRow, GateRow];
  const setupMs: Record<number, number> = {};
  const dirs: string[] = [];
  try {
    for (const size of sizes) {
      const began = performance.now();
      const dir = await buildRepo(size);
      dirs.push(dir);
      setupMs[size] = performance.now() - began;
      log(`gate: ${size} marker commits written with git fast-import in ${ms(setupMs[size]!)} (${await git(dir, ['rev-list', '--count', 'HEAD'])} commits)`);
      const { env, digests } = await stagingEnv(size);
      for (const row of rows) row.samples[size] = [];

      // Warm the page cache and git's own caches once; not measured.
      await indexIn(dir).refresh();

      const tip = await git(dir, ['rev-parse', 'HEAD']);
      for (let rep = 1; rep <= reps; rep++) {
        // Every run starts from the same history of `size` markers.
        await git(dir, ['reset', '-q', '--hard', tip]);
        const index = indexIn(dir);
        let t = performance.now();
        const read = await index.refresh();
        full.samples[size]!.push(performance.now() - t);
        full.check[size] = `${read} markers read`;

        t = performance.now();
        const none = await index.refresh();
        idle.samples[size]!.push(performance.now() - t);
        idle.check[size] = `${none} read`;

        await commitOneMore(dir, size + 1);
        t = performance.now();
        const one = await index.refresh();
        incremental.samples[size]!.push(performance.now() - t);
        incremental.check[size] = `${one} read`;
        if (one !== 1) throw new Error(`incremental refresh at ${size} read ${one} markers, expected 1`);

        let reasons: string[] = [];
        t = performance.now();
        for (let i = 0; i < lookups; i++) reasons = gateReasons(env, index, digests);
        lookup.samples[size]!.push((performance.now() - t) / lookups);
        lookup.check[size] = `${reasons.length} blocked of 3`;
        log(`  ${size}, run ${rep}/${reps}: full ${ms(full.samples[size]!.at(-1)!)}, incremental ${ms(incremental.samples[size]!.at(-1)!)}, idle ${ms(idle.samples[size]!.at(-1)!)}, lookup ${ms(lookup.samples[size]!.at(-1)!)}`);
      }
    }
  } finally {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
  const small = sizes[0]!;
  const large = sizes.at(-1)!;
  const header = ['measurement', ...sizes.map((s) => `${s.toLocaleString('en-US')} markers (median)`), `ratio ${large.toLocaleString('en-US')} : ${small.toLocaleString('en-US')}`, 'check'];
  const body = rows.map((r) => {
    const ratio = median(r.samples[large]!) / median(r.samples[small]!);
    return [r.measurement, ...sizes.map((s) => ms(median(r.samples[s]!))), Number.isFinite(ratio) ? `${ratio.toFixed(ratio >= 10 ? 0 : 1)}×` : '—', sizes.map((s) => r.check[s]).join(' / ')];
  });
  body.push(['setup: git fast-import (1 run, not the gate)', ...sizes.map((s) => ms(setupMs[s]!)), `${(setupMs[large]! / setupMs[small]!).toFixed(0)}×`, '']);
  return { rows, setupMs, table: table(header, body) };
}

async function describeTool(cmd: string, args: string[]): Promise<string> {
  return run(cmd, args).then(
    (r) => r.stdout.trim(),
    () => 'unknown',
  );
}

async function main(): Promise<number> {
  const sizes = (process.env.BENCH_GATE_SIZES ?? '10,10000').split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
  const reps = Math.max(1, Number(process.env.BENCH_REPS ?? 5) || 5);
  const lookups = Math.max(1, Number(process.env.BENCH_GATE_LOOKUPS ?? 20_000) || 20_000);
  const meta = {
    date: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    machine: `${cpus().length} cores`,
    git: await describeTool('git', ['--version']),
    revision: await describeTool('git', ['-C', projectRoot, 'describe', '--always', '--dirty']),
  };
  const result = await runGateBench({ sizes, reps, lookups });
  process.stdout.write(
    `\nstagecoach gate benchmark — ${meta.date}; ${meta.machine}; ${meta.git}; node ${process.version}; stagecoach ${meta.revision}\n` +
      `medians of ${reps} run(s); a lookup sample is the mean of ${lookups} gateReasons calls\n\n${result.table}\n`,
  );
  const resultsDir = path.join(projectRoot, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `gate-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify({ meta, sizes, reps, lookups, rows: result.rows, setupMs: result.setupMs }, null, 2)}\n`);
  process.stderr.write(`raw samples: ${path.relative(projectRoot, file)}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main();
