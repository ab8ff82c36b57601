// The edge proxy benchmark: request latency and failed requests while a
// service that publishes a fixed host port is replaced, behind the edge proxy
// (start-first, switched over HAProxy's runtime API) and without it
// (`edge: off`, stop-first), in one run, against a quiet baseline.
//
//   npm run bench:edge        (builds, then npx tsx bench/edge-proxy.ts)
//
// Knobs (environment): BENCH_EDGE_REPS (default 3) replaces per mode,
// BENCH_EDGE_WORKERS (default 4) concurrent clients sending back to back.
// Loopback only; the whole run is bounded (BENCH_EDGE_DEADLINE_S, default
// 300): past it, the run stops, cleans up and exits 1. Progress goes to
// stderr, the table to stdout.
import { performance } from 'node:perf_hooks';
import { ConfigRepo } from '../test/integration/helpers/cli.js';
import { freePort, httpGet, removeByLabel, requireDocker, TEST_LABEL, uniqueName, waitFor } from '../test/integration/helpers/docker.js';
import { buildVersionImages, requestLoop, webService } from '../test/integration/helpers/edge.js';
import type { LoopReport } from '../test/integration/helpers/edge.js';

const REPS = Math.max(1, Number(process.env.BENCH_EDGE_REPS ?? 3) || 3);
const WORKERS = Math.max(1, Number(process.env.BENCH_EDGE_WORKERS ?? 4) || 4);
const DEADLINE_S = Math.max(30, Number(process.env.BENCH_EDGE_DEADLINE_S ?? 300) || 300);

const run = uniqueName('edgebench');
const image = (tag: string) => `stagecoach-bench/${run}:${tag}`;
const t0 = performance.now();
const progress = (m: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}\n`);

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Row {
  what: string;
  requests: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
  applyMs: number;
}

function row(what: string, reports: LoopReport[], applyMs: number[]): Row {
  const lat = reports.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  return {
    what,
    requests: reports.reduce((n, r) => n + r.answers.length + r.failures.filter((f) => f.startsWith('error')).length, 0),
    failed: reports.reduce((n, r) => n + r.failures.length, 0),
    p50: quantile(lat, 0.5),
    p99: quantile(lat, 0.99),
    max: lat.at(-1) ?? NaN,
    applyMs: applyMs.length ? applyMs.reduce((a, b) => a + b, 0) / applyMs.length : NaN,
  };
}

async function main(): Promise<number> {
  const docker = await requireDocker();
  const env = uniqueName('eb').replace(/-/g, '');
  const repo = await ConfigRepo.create(env);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const deadline = setTimeout(() => {
    progress(`deadline of ${DEADLINE_S}s passed: stopping`);
    void cleanup().finally(() => process.exit(1));
  }, DEADLINE_S * 1000);
  const cleanup = async () => {
    await removeByLabel(docker, 'io.stagecoach.environment', env).catch(() => undefined);
    await removeByLabel(docker, TEST_LABEL, run, { images: true }).catch(() => undefined);
    await repo.dispose();
  };
  try {
    progress(`building test images (${run})`);
    await buildVersionImages(docker, image, { [TEST_LABEL]: run });
    const rows: Row[] = [];
    for (const [mode, extra] of [['edge proxy (tcp)', ''], ['edge proxy (http)', 'edge: http\n'], ['edge: off (stop-first)', 'edge: off\n']] as const) {
      await removeByLabel(docker, 'io.stagecoach.environment', env);
      await repo.write('web.yaml', webService(image('v1'), port, extra));
      const first = await repo.run('apply');
      if (first.code !== 0) throw new Error(`first apply failed: ${first.stdout}${first.stderr}`);
      await waitFor(() => httpGet(url), { what: 'the port to answer', timeoutMs: 10_000 });
      progress(`${mode}: quiet baseline`);
      const quiet = requestLoop(url, { workers: WORKERS, gapMs: 0 });
      await new Promise((r) => setTimeout(r, 2_000));
      if (mode === 'edge proxy (tcp)') rows.push(row('no change (baseline, through the proxy)', [await quiet.stop()], []));
      else await quiet.stop();
      const reports: LoopReport[] = [];
      const applyMs: number[] = [];
      for (let i = 0; i < REPS; i++) {
        const tag = i % 2 === 0 ? 'v2' : 'v1';
        await repo.write('web.yaml', webService(image(tag), port, extra));
        progress(`${mode}: replace ${i + 1}/${REPS} → ${tag}`);
        const loop = requestLoop(url, { workers: WORKERS, gapMs: 0 });
        const began = performance.now();
        const applied = await repo.run('apply');
        applyMs.push(performance.now() - began);
        await new Promise((r) => setTimeout(r, 300));
        reports.push(await loop.stop());
        if (applied.code !== 0) throw new Error(`apply failed: ${applied.stdout}${applied.stderr}`);
      }
      rows.push(row(`replace, ${mode}`, reports, applyMs));
    }
    const f = (n: number) => (Number.isNaN(n) ? '—' : n.toFixed(1));
    console.log(`\nedge proxy: ${WORKERS} clients back to back on 127.0.0.1:${port}, ${REPS} replaces per mode (healthcheck interval 1 s)\n`);
    console.log('| what | requests | failed | p50 ms | p99 ms | max ms | apply s |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.what} | ${r.requests} | ${r.failed} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.max)} | ${Number.isNaN(r.applyMs) ? '—' : (r.applyMs / 1000).toFixed(2)} |`);
    return rows.filter((r) => r.what.includes('edge proxy')).some((r) => r.failed > 0) ? 1 : 0;
  } finally {
    clearTimeout(deadline);
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
