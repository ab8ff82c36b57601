// Where the time of one `stagecoach apply` goes: creates 20 services, then
// replaces them, and prints for each run the engine's container events
// (create, start, health_status, kill, die, destroy, rename) relative to the
// moment the CLI was spawned, and the Engine API requests it made, counted
// at a unix-socket proxy given to it as DOCKER_HOST. Not a benchmark (no
// peer, one sample): a timeline for finding the serial waits.
//
//   npm run build && flock /tmp/stagecoach-docker.lock npx tsx bench/rollout-trace.ts
//
// Knobs: TRACE_HEALTHCHECK=0 (services without a healthcheck), TRACE_COUNT (20),
// TRACE_TOOL=compose (the same timeline for `docker-compose up -d` and, with
// healthchecks, the wait until all are healthy, through the same proxy).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DockerProxy } from './docker-proxy.js';
import type { ApiCall } from './docker-proxy.js';
import { ComposeProject, composeLabel, docker, Registry, removeComposeProject, removeStagecoachEnv, StagecoachEnv, stagecoachBin as builtBin, timed, waitFor } from './reconcile.js';

/** TRACE_BIN: another build's bin/stagecoach.js (a before/after in one sitting). */
const stagecoachBin = process.env.TRACE_BIN ?? builtBin;

const COUNT = Number(process.env.TRACE_COUNT ?? 20) || 20;
const HEALTHCHECK = process.env.TRACE_HEALTHCHECK !== '0';
/** TRACE_TOOL=compose: the same timeline for `docker-compose up -d`, then until all are healthy. */
const COMPOSE = process.env.TRACE_TOOL === 'compose';
const runId = Date.now().toString(36).slice(-6);

interface Seen {
  at: number;
  action: string;
  name: string;
  id: string;
}

const ms = (n: number) => `${Math.round(n)}`;

function report(title: string, t0: number, total: number, events: Seen[], calls: ApiCall[]): void {
  console.log(`\n## ${title}: ${(total / 1000).toFixed(2)} s wall`);
  const byRoute = new Map<string, number[]>();
  for (const c of calls) byRoute.set(c.route, [...(byRoute.get(c.route) ?? []), c.at - t0]);
  console.log(`API requests: ${calls.length}`);
  for (const [r, at] of [...byRoute].sort((a, b) => b[1].length - a[1].length)) console.log(`  ${String(at.length).padStart(4)}  ${r}  (first ${ms(Math.min(...at))} ms, last ${ms(Math.max(...at))} ms)`);
  const byAction = new Map<string, number[]>();
  for (const e of events) byAction.set(e.action, [...(byAction.get(e.action) ?? []), e.at - t0]);
  console.log('engine events (ms after spawn: first / median / last):');
  for (const [a, at] of byAction) {
    const s = [...at].sort((x, y) => x - y);
    console.log(`  ${a.padEnd(34)} ${String(s.length).padStart(3)}  ${ms(s[0]!)} / ${ms(s[Math.floor(s.length / 2)]!)} / ${ms(s[s.length - 1]!)}`);
  }
  // per new container: the gaps between its phases, and the old one's retirement
  const created = events.filter((e) => e.action === 'create');
  const gaps = new Map<string, number[]>();
  const gap = (what: string, a?: Seen, b?: Seen) => a && b && gaps.set(what, [...(gaps.get(what) ?? []), b.at - a.at]);
  for (const c of created) {
    const own = events.filter((e) => e.id === c.id);
    const first = (action: string) => own.find((e) => e.action === action);
    const start = first('start');
    const ready = first('health_status: healthy');
    const rename = first('rename');
    gap('create → start', c, start);
    gap('start → healthy', start, ready);
    gap('healthy → renamed (old stopped and removed)', ready, rename);
    if (!ready) gap('start → renamed (no healthcheck: grace, old stopped and removed)', start, rename);
    const old = events.find((e) => e.action === 'kill' && e.name === c.name.replace(/\.next$/, ''));
    const destroyed = old && events.find((e) => e.action === 'destroy' && e.id === old.id);
    gap('old: kill → destroy', old, destroyed);
    gap('old destroyed → new renamed', destroyed, rename);
  }
  console.log('per new container (ms: min / median / max):');
  for (const [what, values] of gaps) {
    const s = [...values].sort((x, y) => x - y);
    console.log(`  ${what.padEnd(64)} ${ms(s[0]!)} / ${ms(s[Math.floor(s.length / 2)]!)} / ${ms(s[s.length - 1]!)}`);
  }
}

/** One of the two tools, as the trace drives it. */
interface Tool {
  write(revision: string): Promise<void>;
  /** The label filter of its containers. */
  label: string;
  /** Runs the command against the engine at `dockerHost`; resolves when it is done (compose: and all are healthy). */
  apply(dockerHost: string): Promise<{ ms: number; code: number | null; stdout: string }>;
}

function stagecoachTool(sc: StagecoachEnv): Tool {
  return {
    label: `io.stagecoach.environment=${sc.env}`,
    write: (revision) => sc.write({ count: COUNT, kind: 'httpd', healthcheck: HEALTHCHECK, revision, runId }),
    apply: (dockerHost) => timed(process.execPath, [stagecoachBin, 'apply', '--env', sc.env, '--repo', sc.dir], { env: { STAGECOACH_LOG_LEVEL: 'silent', DOCKER_HOST: dockerHost } }),
  };
}

function composeTool(cp: ComposeProject): Tool {
  const label = composeLabel(cp.project);
  return {
    label,
    write: (revision) => cp.write({ count: COUNT, kind: 'httpd', healthcheck: HEALTHCHECK, revision, runId }),
    apply: async (dockerHost) => {
      const began = performance.now();
      const up = await timed('docker-compose', ['-p', cp.project, '-f', path.join(cp.dir, 'docker-compose.yml'), 'up', '-d', '--no-color'], { cwd: cp.dir, env: { DOCKER_HOST: dockerHost } });
      if (up.code !== 0 || !HEALTHCHECK) return up;
      console.log(`(docker-compose up -d returned after ${(up.ms / 1000).toFixed(2)} s; then polled until all ${COUNT} are healthy)`);
      await waitFor(label, COUNT, true);
      return { ...up, ms: performance.now() - began };
    },
  };
}

async function run(tool: Tool, revision: string, title: string, proxy: DockerProxy): Promise<void> {
  await tool.write(revision);
  const events: Seen[] = [];
  const stream = (await docker.getEvents({ filters: { type: ['container'], label: [tool.label] } })) as NodeJS.ReadableStream & { destroy(): void };
  let buf = '';
  stream.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) {
      const e = JSON.parse(line) as { Action: string; timeNano: number; Actor: { ID: string; Attributes: Record<string, string> } };
      events.push({ at: e.timeNano / 1e6 - performance.timeOrigin, action: e.Action.replace(/^(exec_\w+):.*/, '$1'), name: e.Actor.Attributes.name ?? '', id: e.Actor.ID });
    }
  });
  const calls0 = proxy.calls.length;
  const t0 = performance.now();
  const result = await tool.apply(`unix://${proxy.socketPath}`);
  if (result.code !== 0) console.log(`exited ${result.code}:\n${result.stdout.split('\n').filter((l) => l.includes('✗')).join('\n')}`);
  await new Promise((r) => setTimeout(r, 300));
  stream.destroy();
  report(title, t0, result.ms, events, proxy.calls.slice(calls0));
}

const registry = new Registry(runId);
const sc = await StagecoachEnv.create(registry, `trace-${runId}`);
const cp = COMPOSE ? await ComposeProject.create(registry, `trace${runId}`) : undefined;
const tool = cp ? composeTool(cp) : stagecoachTool(sc);
const upstream = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '');
const proxyDir = await mkdtemp(path.join(tmpdir(), 'stagecoach-trace-'));
const proxy = await DockerProxy.start(proxyDir, upstream);
// The environment's network is made here with a subnet of its own: the shared engine's default
// address pools can be used up by other work. Its creation is then not part of the trace.
const network = `stagecoach-${sc.env}`;
await docker.createNetwork({ Name: network, Driver: 'bridge', Labels: { 'io.stagecoach.managed': 'true', 'io.stagecoach.environment': sc.env }, IPAM: { Driver: 'default', Config: [{ Subnet: `10.231.${Math.floor(Math.random() * 250)}.0/24` }] } });
try {
  await run(tool, 'a', `create ${COUNT}${HEALTHCHECK ? ' (healthcheck 1s)' : ' (no healthcheck)'}`, proxy);
  await run(tool, 'b', `replace ${COUNT}${HEALTHCHECK ? ' (healthcheck 1s)' : ' (no healthcheck)'}`, proxy);
} finally {
  await proxy.close();
  await rm(proxyDir, { recursive: true, force: true });
  await removeStagecoachEnv(sc.env);
  if (cp) await removeComposeProject(cp.project);
  await docker.getNetwork(network).remove().catch(() => undefined);
  for (const dir of registry.dirs) await rm(dir, { recursive: true, force: true });
}
