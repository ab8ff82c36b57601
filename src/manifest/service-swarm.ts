import { parseDuration } from './duration.js';
import type { Report } from './normalize-service.js';
import { describeValue } from './problem.js';
import { parseSize } from './size.js';
import type { EndpointMode, EnvironmentManifest, FailureAction, SwarmDeploy, SwarmMode, SwarmUpdatePolicy, UpdateOrder } from './types.js';

interface RawPolicy {
  parallelism?: number;
  delay?: string;
  failure_action?: FailureAction;
  monitor?: string;
  max_failure_ratio?: number;
  order?: UpdateOrder;
}

/** The deploy keys only Swarm honours (already checked against service.schema.json). */
export interface RawSwarmDeploy {
  replicas?: number;
  mode?: SwarmMode;
  update_config?: RawPolicy;
  rollback_config?: RawPolicy;
  placement?: { constraints?: string[]; preferences?: { spread: string }[]; max_replicas_per_node?: number };
  endpoint_mode?: EndpointMode;
  resources?: { reservations?: { cpus?: number | string; memory?: number | string } };
}

const isJob = (mode: SwarmMode | undefined) => mode === 'replicated-job' || mode === 'global-job';
const isGlobal = (mode: SwarmMode | undefined) => mode === 'global' || mode === 'global-job';

/** Where the manifest uses a Swarm-only key (an engine target refuses each). */
export function swarmOnlyKeys(deploy: RawSwarmDeploy | undefined): string[][] {
  if (!deploy) return [];
  const keys: string[][] = [];
  if (deploy.mode !== undefined && deploy.mode !== 'replicated') keys.push(['deploy', 'mode']);
  for (const k of ['parallelism', 'delay', 'failure_action', 'monitor', 'max_failure_ratio'] as const) if (deploy.update_config?.[k] !== undefined) keys.push(['deploy', 'update_config', k]);
  for (const k of ['rollback_config', 'placement', 'endpoint_mode'] as const) if (deploy[k] !== undefined) keys.push(['deploy', k]);
  return keys;
}

/** Only what differs from stagecoach's default for that key, so writing a default changes no hash. */
function policy(raw: RawPolicy | undefined, defaultAction: FailureAction, where: string, report: Report): SwarmUpdatePolicy | undefined {
  if (!raw) return undefined;
  const duration = (key: 'delay' | 'monitor') => {
    const value = raw[key];
    if (value === undefined) return undefined;
    const ms = parseDuration(value);
    if (ms === undefined) report(['deploy', where, key], `is not a duration like 5s (got ${describeValue(value)})`);
    return ms;
  };
  const out: SwarmUpdatePolicy = {
    parallelism: raw.parallelism === 1 ? undefined : raw.parallelism,
    delayMs: duration('delay') || undefined,
    failureAction: raw.failure_action === defaultAction ? undefined : raw.failure_action,
    monitorMs: duration('monitor'),
    maxFailureRatio: raw.max_failure_ratio === 0 ? undefined : raw.max_failure_ratio,
    order: where === 'rollback_config' ? raw.order : undefined,
  };
  return compact(out);
}

function compact<T extends object>(value: T): T | undefined {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return Object.keys(value).length ? value : undefined;
}

function reservations(raw: RawSwarmDeploy['resources'], report: Report): SwarmDeploy['reservations'] {
  const r = raw?.reservations;
  if (!r) return undefined;
  const memoryBytes = r.memory === undefined ? undefined : parseSize(r.memory);
  if (r.memory !== undefined && memoryBytes === undefined) report(['deploy', 'resources', 'reservations', 'memory'], `is not a size like 64m or 1GiB (got ${describeValue(r.memory)})`);
  return compact({ nanoCpus: r.cpus === undefined ? undefined : Math.round(Number(r.cpus) * 1e9), memoryBytes });
}

/**
 * deploy keys of a Swarm target as the service's Swarm settings; on an
 * engine target each Swarm-only key is refused (it would be ignored there).
 */
export function normalizeSwarmDeploy(deploy: RawSwarmDeploy | undefined, environment: EnvironmentManifest | undefined, report: Report): SwarmDeploy | undefined {
  if (!deploy || !environment) return undefined;
  if (environment.target.mode !== 'swarm') {
    for (const where of swarmOnlyKeys(deploy)) report(where, `is honoured on Swarm targets only (target.mode: swarm in ${environment.file}); this environment runs containers on one engine, which would ignore it`, 'key');
    return undefined;
  }
  const mode = deploy.mode === 'replicated' ? undefined : deploy.mode;
  if (isGlobal(mode) && deploy.replicas !== undefined) report(['deploy', 'replicas'], `has no meaning with deploy.mode ${mode}: Swarm runs one task on every node that placement allows`, 'key');
  if (mode === 'replicated-job' && deploy.replicas === 0) report(['deploy', 'replicas'], 'must be at least 1 for a replicated-job: it is the number of tasks that must complete (got 0)');
  if (isJob(mode)) {
    for (const key of ['update_config', 'rollback_config'] as const) {
      if (deploy[key] !== undefined) report(['deploy', key], `has no meaning with deploy.mode ${mode}: a job runs to completion and is never rolled over or back (a change runs it again)`, 'key');
    }
  }
  if (isGlobal(mode) && deploy.placement?.max_replicas_per_node !== undefined) report(['deploy', 'placement', 'max_replicas_per_node'], `has no meaning with deploy.mode ${mode}: a global service runs one task per node`, 'key');
  const p = deploy.placement;
  const placement = p
    ? compact({
        constraints: p.constraints?.length ? p.constraints.map((c) => c.trim().replace(/\s*(==|!=)\s*/, '$1')) : undefined,
        preferences: p.preferences?.length ? p.preferences.map((s) => s.spread) : undefined,
        maxReplicasPerNode: p.max_replicas_per_node || undefined,
      })
    : undefined;
  return compact<SwarmDeploy>({
    mode,
    update: policy(deploy.update_config, 'rollback', 'update_config', report),
    rollback: policy(deploy.rollback_config, 'pause', 'rollback_config', report),
    placement,
    reservations: reservations(deploy.resources, report),
    endpointMode: deploy.endpoint_mode === 'dnsrr' ? undefined : deploy.endpoint_mode,
  });
}
