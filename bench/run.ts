// The reconcile benchmark: stagecoach against docker-compose (v1) on the same
// engine, in one run, side by side. See bench/README.md for what each row
// means and the last measured numbers.
//
//   npm run build && npx tsx bench/run.ts        (npm run bench)
//
// Knobs (environment): BENCH_REPS (default 3) repetitions of the cheap
// scenarios, BENCH_SCALE (default 200) services for the no-change scenario,
// BENCH_ONLY=create,replace,scale to run a subset, BENCH_PROFILE_DIR=DIR to
// write one unmeasured `--cpu-prof` profile of `plan` at scale there.
// Progress goes to stderr, the summary table to stdout, raw samples to
// bench/results/ (git-ignored).
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runGateBench } from './gate.js';
import { runPushBench } from './push-contention.js';
import type { ServiceShape } from './reconcile.js';
import {
  BENCH_LABEL, cleanupAll, driftCheckCalls, leftovers, ComposeProject, composeLabel, docker, expectConverged, expectExit, killRunning, median, progress, projectRoot, Registry,
  removeComposeProject, removeStagecoachEnv, requireEngine, sleep, StagecoachEnv, stagecoachBin, stagecoachLabel, timed, waitFor,
} from './reconcile.js';
import { table } from '../test/support/stats.js';

const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 3) || 3);
const SCALE = Math.max(1, Number(process.env.BENCH_SCALE ?? 200) || 200);
const SMALL = 20;
const ONLY = new Set((process.env.BENCH_ONLY ?? 'create,replace,scale,gate,push').split(',').map((s) => s.trim()));
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
/** BENCH_SCALE_PEER=0 skips docker-compose at scale (at 1,000 services it takes minutes and adds nothing new). */
const SCALE_PEER = process.env.BENCH_SCALE_PEER !== '0';
/** Facts that are counts, not times: printed under the table. */
const counts: string[] = [];

const runId = Date.now().toString(36).slice(-6);
const registry = new Registry(runId);

/** One line of the summary: stagecoach's samples against a peer's, same scenario. */
interface Row {
  group: string;
  scenario: string;
  stagecoach: number[];
  peer: string;
  peerMs: number[];
}
const rows: Row[] = [];
const failures: string[] = [];

function row(group: string, scenario: string, peer: string): Row {
  const r: Row = { group, scenario, stagecoach: [], peer, peerMs: [] };
  rows.push(r);
  return r;
}

const shape = (count: number, kind: ServiceShape['kind'], healthcheck: boolean, revision: string, order?: ServiceShape['order']): ServiceShape => ({ count, kind, healthcheck, revision, runId, ...(order ? { order } : {}) });

// ---------------------------------------------------------------- scenarios 1 and 2: 20 services

/**
 * One repetition for one tool: create 20 from nothing, then replace all 20
 * (BENCH_REV a → b), then remove everything. Each tool runs on an engine
 * that holds none of the other's containers (healthchecks cost CPU).
 * `stopFirst`: stagecoach replaces all 20 once more (b → c) with
 * `update_config.order: stop-first`, the order compose's recreate has.
 */
async function stagecoachSmall(healthcheck: boolean, rep: number, create: Row, replace: Row, stopFirst?: Row): Promise<void> {
  const tag = healthcheck ? 'hc' : 'nohc';
  const sc = await StagecoachEnv.create(registry, `bench-${runId}-${tag}-r${rep}`);
  const label = stagecoachLabel(sc.env);
  try {
    await sc.write(shape(SMALL, 'httpd', healthcheck, 'a'));
    const created = await sc.apply();
    await expectConverged(`stagecoach create (${tag})`, label, SMALL, healthcheck);
    create.stagecoach.push(created.ms);
    progress(`  stagecoach apply, create ${SMALL} (${tag}) #${rep}: ${secs(created.ms)}`);
    await sc.write(shape(SMALL, 'httpd', healthcheck, 'b'));
    const replaced = await sc.apply();
    await expectConverged(`stagecoach replace (${tag})`, label, SMALL, healthcheck);
    replace.stagecoach.push(replaced.ms);
    progress(`  stagecoach apply, replace ${SMALL} (${tag}) #${rep}: ${secs(replaced.ms)}`);
    if (stopFirst) {
      await sc.write(shape(SMALL, 'httpd', healthcheck, 'c', 'stop-first'));
      const again = await sc.apply();
      await expectConverged(`stagecoach replace stop-first (${tag})`, label, SMALL, healthcheck);
      stopFirst.stagecoach.push(again.ms);
      progress(`  stagecoach apply, replace ${SMALL} stop-first (${tag}) #${rep}: ${secs(again.ms)}`);
    }
  } finally {
    await removeStagecoachEnv(sc.env);
  }
}

async function composeSmall(healthcheck: boolean, rep: number, create: Row, replace: Row, untilHealthy?: { create: Row; replace: Row }): Promise<void> {
  const tag = healthcheck ? 'hc' : 'nohc';
  const cp = await ComposeProject.create(registry, `bench${runId}${tag}r${rep}`);
  const label = composeLabel(cp.project);
  try {
    await cp.write(shape(SMALL, 'httpd', healthcheck, 'a'));
    const began = performance.now();
    const up = await cp.up();
    create.peerMs.push(up.ms);
    let line = `  docker-compose up -d, create ${SMALL} (${tag}) #${rep}: ${secs(up.ms)}`;
    if (untilHealthy) {
      const healthyAt = await waitFor(label, SMALL, true);
      untilHealthy.create.peerMs.push(healthyAt - began);
      line += `, all healthy after ${secs(healthyAt - began)}`;
    }
    await expectConverged(`compose create (${tag})`, label, SMALL, false);
    progress(line);

    await cp.write(shape(SMALL, 'httpd', healthcheck, 'b'));
    const began2 = performance.now();
    const up2 = await cp.up();
    replace.peerMs.push(up2.ms);
    line = `  docker-compose up -d, replace ${SMALL} (${tag}) #${rep}: ${secs(up2.ms)}`;
    if (untilHealthy) {
      const healthyAt = await waitFor(label, SMALL, true);
      untilHealthy.replace.peerMs.push(healthyAt - began2);
      line += `, all healthy after ${secs(healthyAt - began2)}`;
    }
    await expectConverged(`compose replace (${tag})`, label, SMALL, false);
    progress(line);
  } finally {
    await removeComposeProject(cp.project);
  }
}

async function small(healthcheck: boolean): Promise<void> {
  const tag = healthcheck ? `with healthcheck (interval 1s)` : 'without healthcheck';
  const create = row('create', `create ${SMALL} services, ${tag}`, 'docker-compose up -d');
  const untilCreate = healthcheck ? row('create', `create ${SMALL} services, ${tag}`, 'up -d, then until all healthy') : undefined;
  const replace = row('replace', `replace ${SMALL} services (env change), ${tag}`, 'docker-compose up -d');
  const untilReplace = healthcheck ? row('replace', `replace ${SMALL} services (env change), ${tag}`, 'up -d, then until all healthy') : undefined;
  const until = untilCreate && untilReplace ? { create: untilCreate, replace: untilReplace } : undefined;
  // Like for like: compose's recreate stops each old container before it starts the new one; stagecoach's
  // default (start-first) keeps the old one serving until its replacement is healthy. Same compose samples.
  const stopFirst = untilReplace ? row('replace', `replace ${SMALL} services (env change), ${tag}, stagecoach stop-first`, 'up -d, then until all healthy') : undefined;
  if (stopFirst && untilReplace) stopFirst.peerMs = untilReplace.peerMs;
  // The stagecoach side of the "until healthy" rows is apply itself: it returns once all are healthy.
  if (untilCreate) untilCreate.stagecoach = create.stagecoach;
  if (untilReplace) untilReplace.stagecoach = replace.stagecoach;
  for (let rep = 1; rep <= REPS; rep++) {
    progress(`${SMALL} services ${tag}: repetition ${rep}/${REPS}`);
    // Alternate who goes first, so neither always gets the warmer engine.
    const steps = [() => stagecoachSmall(healthcheck, rep, create, replace, stopFirst), () => composeSmall(healthcheck, rep, create, replace, until)];
    if (rep % 2 === 0) steps.reverse();
    for (const step of steps) {
      await step();
      await sleep(500); // let the engine finish unmounting what was removed
    }
  }
}

// ---------------------------------------------------------------- scenario 3: no change at scale

async function scale(): Promise<void> {
  const createRow = row('scale', `create ${SCALE} services, no healthcheck (setup, 1 sample)`, 'docker-compose up -d');
  const planRow = row('scale', `no-change \`plan\` at ${SCALE} services`, 'docker-compose up -d (no change)');
  const applyRow = row('scale', `no-change \`apply\` at ${SCALE} services`, 'docker-compose up -d (no change)');
  const psRow = row('bound', `no-change \`plan\` at ${SCALE} services`, `\`docker ps -a --filter label=…\` (${SCALE} rows)`);
  const validateRow = row('bound', `no-change \`plan\` at ${SCALE} services`, `\`stagecoach validate\` (${SCALE} manifests)`);
  const apiRow = row('bound', `no-change \`plan\` at ${SCALE} services`, 'one list call over the API, in-process');
  // Same samples (shared arrays): the bounds compare against plan, and compose's no-change up -d serves both rows.
  psRow.stagecoach = validateRow.stagecoach = apiRow.stagecoach = planRow.stagecoach;
  applyRow.peerMs = planRow.peerMs;

  const sc = await StagecoachEnv.create(registry, `bench-${runId}-scale`);
  const label = stagecoachLabel(sc.env);
  try {
    await sc.write(shape(SCALE, 'sleep', false, 'a'));
    progress(`stagecoach apply: creating ${SCALE} services (no healthcheck: 500 ms without a die each, 20 at a time)`);
    const created = await sc.apply();
    await expectConverged(`stagecoach create ${SCALE}`, label, SCALE, false);
    createRow.stagecoach.push(created.ms);
    progress(`  created in ${secs(created.ms)}`);
    if (PROFILE_DIR) {
      await mkdir(PROFILE_DIR, { recursive: true });
      await expectExit('profiled plan', timed(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, stagecoachBin, 'plan', '--env', sc.env, '--repo', sc.dir], { env: { STAGECOACH_LOG_LEVEL: 'silent' } }));
      progress(`  wrote a CPU profile of plan to ${PROFILE_DIR} (not measured)`);
    }
    const calls = await driftCheckCalls(sc.env);
    counts.push(`Docker API calls per drift check at ${SCALE} services: first ${calls.cold}, then with nothing changed ${calls.warm} (before the inspect cache: 1 list + ${SCALE} inspects + 1 image inspect = ${SCALE + 2})`);
    progress(`  drift check: ${calls.cold} API calls cold, ${calls.warm} warm`);
    for (let rep = 1; rep <= REPS; rep++) {
      const plan = await sc.plan();
      if (!plan.stdout.includes(`in sync; ${SCALE} unchanged`)) throw new Error(`plan at ${SCALE} is not in sync:\n${plan.stdout.split('\n').slice(-5).join('\n')}`);
      planRow.stagecoach.push(plan.ms);
      const apply = await sc.apply();
      applyRow.stagecoach.push(apply.ms);
      const ps = await expectExit('docker ps', timed('docker', ['ps', '-a', '--filter', `label=${label}`]));
      const listed = ps.stdout.trim().split('\n').length - 1;
      if (listed !== SCALE) throw new Error(`docker ps listed ${listed} containers, expected ${SCALE}`);
      psRow.peerMs.push(ps.ms);
      const validate = await sc.validate();
      validateRow.peerMs.push(validate.ms);
      const began = performance.now();
      await docker.listContainers({ all: true, filters: { label: [label] } });
      apiRow.peerMs.push(performance.now() - began);
      progress(`  #${rep}: plan ${secs(plan.ms)}, apply (no change) ${secs(apply.ms)}, docker ps ${secs(ps.ms)}, validate ${secs(validate.ms)}`);
    }
  } finally {
    progress(`removing stagecoach's ${SCALE} containers`);
    await removeStagecoachEnv(sc.env);
  }
  await sleep(1000);
  if (!SCALE_PEER) return;

  // docker-compose v1 deadlocks when a project has more services than
  // COMPOSE_PARALLEL_LIMIT (default 64): the per-service and per-container
  // tasks share one semaphore, and the outer ones hold every slot. At 100
  // services it stalled after ~20 containers. Above the service count it works.
  const composeEnv = { COMPOSE_PARALLEL_LIMIT: String(Math.max(64, 2 * SCALE)) };
  const cp = await ComposeProject.create(registry, `bench${runId}scale`);
  try {
    await cp.write(shape(SCALE, 'sleep', false, 'a'));
    progress(`docker-compose up -d: creating ${SCALE} services (COMPOSE_PARALLEL_LIMIT=${composeEnv.COMPOSE_PARALLEL_LIMIT})`);
    const up = await cp.up(composeEnv);
    await expectConverged(`compose create ${SCALE}`, composeLabel(cp.project), SCALE, false);
    createRow.peerMs.push(up.ms);
    progress(`  created in ${secs(up.ms)}`);
    for (let rep = 1; rep <= REPS; rep++) {
      const again = await cp.up(composeEnv);
      planRow.peerMs.push(again.ms);
      progress(`  #${rep}: up -d (no change) ${secs(again.ms)}`);
    }
  } finally {
    progress(`removing compose's ${SCALE} containers`);
    await removeComposeProject(cp.project);
  }
}

// ---------------------------------------------------------------- output

function secs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function cell(samples: number[]): string {
  if (samples.length === 0) return '—';
  const m = secs(median(samples));
  if (samples.length === 1) return m;
  const lo = Math.min(...samples);
  const hi = Math.max(...samples);
  return `${m} (${secs(lo)}–${secs(hi)}, n=${samples.length})`;
}

function ratio(r: Row): string {
  const a = median(r.stagecoach);
  const b = median(r.peerMs);
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '—';
  return `${(a / b).toFixed(a / b >= 10 ? 0 : 1)}×`;
}


function summary(meta: Record<string, string>): string {
  const main = rows.filter((r) => r.group !== 'bound');
  const bounds = rows.filter((r) => r.group === 'bound');
  const header = ['scenario', 'stagecoach (median, range)', 'peer', 'peer (median, range)', 'stagecoach / peer'];
  const out = [
    '',
    `stagecoach reconcile benchmark — ${meta.date}; ${meta.machine}; one run, wall time of each command (process start included)`,
    `engine ${meta.engine}; ${meta.compose}; node ${process.version}; stagecoach ${meta.revision}; ${REPS} repetition(s)`,
    '',
    table(header, main.map((r) => [r.scenario, cell(r.stagecoach), r.peer, cell(r.peerMs), ratio(r)])),
  ];
  if (bounds.length > 0) {
    out.push('', 'Lower bounds for the no-change plan (what any CLI that lists the containers and loads the manifests must pay):', '');
    out.push(table(header, bounds.map((r) => [r.scenario, cell(r.stagecoach), r.peer, cell(r.peerMs), ratio(r)])));
  }
  if (counts.length > 0) out.push('', ...counts);
  if (failures.length > 0) out.push('', 'FAILED:', ...failures.map((f) => `  ${f.split('\n').join('\n    ')}`));
  if (leftovers.size > 0) {
    out.push('', 'WARNING: the engine refused to remove these networks (no container is attached; a dockerd restart clears them):', ...[...leftovers].map((l) => `  ${l}`));
  }
  return `${out.join('\n')}\n`;
}

function describe(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------- main

let cleaning: Promise<string[]> | undefined;
const cleanup = () => (cleaning ??= cleanupAll(registry));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping, removing what this run created`);
    killRunning();
    void cleanup().finally(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  const meta = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    machine: `${cpus().length} cores`,
    engine: `Docker ${describe('docker', ['version', '--format', '{{.Server.Version}}'])}`,
    compose: describe('docker-compose', ['version', '--short']).replace(/^/, 'docker-compose '),
    revision: describe('git', ['-C', projectRoot, 'describe', '--always', '--dirty']),
  };
  try {
    await requireEngine();
    progress(`bench run ${runId}: ${[...ONLY].join(', ')}; ${REPS} repetition(s); label ${BENCH_LABEL}=${runId}`);
    // Warm the disk cache for both CLIs; not measured.
    const warm = await StagecoachEnv.create(registry, `bench-${runId}-warm`);
    await warm.validate();
    await timed('docker-compose', ['version']);

    const scenarios: [string, () => Promise<void>][] = [];
    if (ONLY.has('create') || ONLY.has('replace')) {
      scenarios.push([`${SMALL} services with healthcheck`, () => small(true)], [`${SMALL} services without healthcheck`, () => small(false)]);
    }
    if (ONLY.has('scale')) scenarios.push([`${SCALE} services, no change`, scale]);
    for (const [name, fn] of scenarios) {
      try {
        await fn();
      } catch (err) {
        failures.push(`${name}: ${(err as Error).message}`);
        progress(`FAILED ${name}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  } catch (err) {
    failures.push((err as Error).message);
  } finally {
    progress('cleaning up');
    const problems = await cleanup();
    for (const p of problems) failures.push(`cleanup: ${p}`);
  }

  process.stdout.write(summary(meta));
  // The promotion benchmarks need git only, no engine.
  if (ONLY.has('gate')) process.stdout.write(`\n${(await runGateBench({ reps: REPS })).table}\n`);
  if (ONLY.has('push')) {
    const push = await runPushBench({ clones: [2, 4, 8], markers: 5 });
    process.stdout.write(`\n${push.table}\n`);
    if (!push.ok) failures.push('push contention: a marker is missing or duplicated on the remote');
  }
  const resultsDir = path.join(projectRoot, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `reconcile-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify({ meta, reps: REPS, scale: SCALE, rows, failures, leftovers: [...leftovers] }, null, 2)}\n`);
  progress(`raw samples: ${path.relative(projectRoot, file)}`);
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();
