import type { DaemonStatus, EnvironmentStatus } from '../../daemon/status.js';
import { compareText } from '../../text-order.js';

/** What a marker may carry beyond today's status summary: its images and every test (optional, for older status). */
export interface MarkerDetails {
  images?: { service: string; image: string }[];
  results?: { name: string; result: string; message: string }[];
}

export type PageMarker = NonNullable<EnvironmentStatus['lastMarker']> & MarkerDetails;
export type PageEnvironment = Omit<EnvironmentStatus, 'lastMarker'> & { lastMarker: PageMarker | null };
export type PageStatus = Omit<DaemonStatus, 'environments'> & { environments: PageEnvironment[] };

export interface ServiceView {
  name: string;
  /** What runs, or null. */
  image: string | null;
  /** What the manifests ask for, when it differs from what runs. */
  wanted: string | null;
  state: string;
  health: string;
  /** Swarm services: tasks running of those wanted, and on which nodes. */
  tasks?: string;
  /** Environments whose latest marker passed with the image that runs (or else the wanted one). */
  verifiedIn: string[];
}

export interface EnvironmentView {
  env: PageEnvironment;
  /** 0 for an environment that promotes from none, 1 for the next, … */
  stage: number;
  services: ServiceView[];
}

/** How far down the promotion chain an environment is (cycle-safe: a loop stops counting). */
function stageOf(name: string, from: Map<string, string>): number {
  const seen = new Set<string>([name]);
  let stage = 0;
  for (let up = from.get(name); up !== undefined && !seen.has(up); up = from.get(up)) {
    seen.add(up);
    stage++;
  }
  return stage;
}

/** Environments in promotion order (upstream first, from `promotion.from` as the gate reports it), then by name. */
export function promotionOrder(envs: readonly PageEnvironment[]): { env: PageEnvironment; stage: number }[] {
  const from = new Map(envs.flatMap((e) => (e.gate ? [[e.name, e.gate.from] as const] : [])));
  return envs.map((env) => ({ env, stage: stageOf(env.name, from) })).sort((a, b) => a.stage - b.stage || compareText(a.env.name, b.env.name));
}

/** image → environments whose latest marker passed with it. */
function passingByImage(envs: readonly PageEnvironment[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const { env } of promotionOrder(envs)) {
    const marker = env.lastMarker;
    if (marker?.result !== 'passed') continue;
    for (const image of new Set((marker.images ?? []).map((i) => i.image))) out.set(image, [...(out.get(image) ?? []), env.name]);
  }
  return out;
}

/** The page's model of the pipeline: pure, from a status snapshot. */
export function pipelineView(status: PageStatus): EnvironmentView[] {
  const passing = passingByImage(status.environments);
  return promotionOrder(status.environments).map(({ env, stage }) => ({
    env,
    stage,
    services: env.services.map((s) => {
      const wanted = s.desiredImage !== s.image ? s.desiredImage : null;
      const nodes = [...new Set(s.swarm?.tasks.filter((t) => t.state === 'running').map((t) => t.node) ?? [])];
      const tasks = s.swarm ? `${s.swarm.replicas.running}/${s.swarm.replicas.desired} tasks${nodes.length ? ` on ${nodes.join(', ')}` : ''}` : undefined;
      return { name: s.name, image: s.image, wanted, state: s.state, health: s.health, ...(tasks ? { tasks } : {}), verifiedIn: passing.get(s.image ?? s.desiredImage) ?? [] };
    }),
  }));
}

/** One line a screen reader announces when the pipeline changes: each environment and its state. */
export function announcement(status: PageStatus): string {
  return promotionOrder(status.environments)
    .map(({ env }) => `${env.name} ${env.state}${env.proposals.length ? `, ${env.proposals.length} proposal${env.proposals.length === 1 ? '' : 's'} waiting` : ''}`)
    .join('; ');
}
