// A/B of `stagecoach apply` replacing N services, alternating builds on one
// environment: creates the bench's httpd services once, then replaces all of
// them with each variant in turn (BENCH_REV changes every time), printing the
// wall time of each apply and which ones rolled back. Not a benchmark against
// a peer: a same-sitting before/after of two builds on a noisy machine.
//
//   npm run build && flock /tmp/stagecoach-docker.lock npx tsx bench/replace-ab.ts
//
// Knobs: AB_VARIANTS="before:BIN=/other/checkout/bin/stagecoach.js;after:"
// (name:KEY=VALUE,...; BIN is the CLI to run, other keys become its
// environment; default: this build only), AB_REPS (3), AB_COUNT (20),
// AB_HC=0 (services without a healthcheck). The environment's network gets a
// subnet of its own, as in rollout-trace.ts.
import { rm } from 'node:fs/promises';
import { docker, Registry, removeStagecoachEnv, StagecoachEnv, stagecoachBin, timed } from './reconcile.js';

const COUNT = Number(process.env.AB_COUNT ?? 20);
const REPS = Number(process.env.AB_REPS ?? 3);
const HC = process.env.AB_HC !== '0';

const variants = (process.env.AB_VARIANTS ?? 'base:').split(';').map((v) => {
  const [name, env] = v.split(':');
  return { name: name!, env: Object.fromEntries((env ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string])) };
});
const runId = Date.now().toString(36).slice(-6);
const registry = new Registry(runId);
const sc = await StagecoachEnv.create(registry, `ab-${runId}`);
const network = `stagecoach-${sc.env}`;
await docker.createNetwork({ Name: network, Driver: 'bridge', Labels: { 'io.stagecoach.managed': 'true', 'io.stagecoach.environment': sc.env }, IPAM: { Driver: 'default', Config: [{ Subnet: `10.232.${Math.floor(Math.random() * 250)}.0/24` }] } });
const results = new Map<string, number[]>();
let rev = 0;
async function apply(env: Record<string, string>) {
  await sc.write({ count: COUNT, kind: 'httpd', healthcheck: HC, revision: `r${rev++}`, runId });
  const { BIN, ...rest } = env;
  return timed(process.execPath, [BIN ?? stagecoachBin, 'apply', '--env', sc.env, '--repo', sc.dir], { env: { STAGECOACH_LOG_LEVEL: 'silent', ...rest } });
}
try {
  const c = await apply({});
  console.log(`create: ${(c.ms / 1000).toFixed(2)} s exit ${c.code}`);
  for (let r = 0; r < REPS; r++) {
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const t = await apply(v.env);
      const ok = t.code === 0;
      console.log(`rep ${r + 1} ${v.name}: ${(t.ms / 1000).toFixed(2)} s${ok ? '' : ` FAILED exit ${t.code}: ${t.stdout.split('\n').filter((l) => l.includes('✗')).slice(0, 2).join(' | ')}`}`);
      if (ok) results.set(v.name, [...(results.get(v.name) ?? []), t.ms]);
      await new Promise((res) => setTimeout(res, 1000));
    }
  }
} finally {
  await removeStagecoachEnv(sc.env);
  await docker.getNetwork(network).remove().catch(() => undefined);
  for (const dir of registry.dirs) await rm(dir, { recursive: true, force: true });
}
for (const [name, ms] of results) {
  const s = [...ms].sort((a, b) => a - b);
  console.log(`${name}: median ${(s[Math.floor(s.length / 2)]! / 1000).toFixed(2)} s (${(s[0]! / 1000).toFixed(2)}–${(s[s.length - 1]! / 1000).toFixed(2)}, n=${s.length})`);
}
