import type { DependencyCondition, LoadedEnvironment, ServiceManifest } from '../manifest/types.js';
import type { Outcome } from './rollout.js';
import type { Action } from './types.js';
import { compareText } from '../text-order.js';

/**
 * A job is a one-shot container (a migration): some service waits for it with
 * `condition: service_completed_successfully`, as compose reads it. A job runs
 * to its exit; exit 0 is success and its exited container is left in place
 * (not drift), a non-zero exit is a failure.
 */
export function jobServices(services: readonly ServiceManifest[]): Set<string> {
  const jobs = new Set<string>();
  for (const s of services) for (const [dep, condition] of Object.entries(s.dependsOn)) if (condition === 'service_completed_successfully') jobs.add(dep);
  return jobs;
}

/** Where a service stands once its step is over, as its dependants see it. */
export const dependencyStates = ['healthy', 'started', 'completed', 'failed', 'missing'] as const;
export type DependencyState = (typeof dependencyStates)[number];

export interface DependencyStatus {
  state: DependencyState;
  /** Why it is failed or missing, for the dependant's skip message. */
  detail?: string;
}

const satisfies: Record<DependencyCondition, readonly DependencyState[]> = {
  service_started: ['started', 'healthy', 'completed'],
  service_healthy: ['healthy'],
  service_completed_successfully: ['completed'],
};

const rank: Record<DependencyState, number> = { missing: 0, failed: 1, started: 2, completed: 3, healthy: 3 };

/** The status of one replica from what apply did to it (its outcome) or, for a noop, what was observed. */
export function replicaStatus(action: Action, outcome: Outcome | undefined, job: boolean, message = ''): DependencyStatus {
  if (outcome === undefined || action.kind === 'noop') {
    const seen = action.observed;
    if (!seen) return { state: 'missing', detail: 'has no container' };
    if (seen.state === 'exited' && seen.exitCode === 0) return { state: 'completed' };
    if (seen.state === 'running') {
      if (seen.health === 'healthy' || seen.health === 'none') return { state: job ? 'started' : 'healthy' };
      return seen.health === 'starting' ? { state: 'started' } : { state: 'failed', detail: 'is unhealthy' };
    }
    return { state: 'failed', detail: `is ${seen.state}${seen.exitCode !== null && seen.exitCode !== undefined ? ` (exit code ${seen.exitCode})` : ''}` };
  }
  if (outcome === 'ok') return { state: job ? 'completed' : 'healthy' };
  // A rolled-back update leaves the old container serving: started, but not proven on the new spec.
  if (outcome === 'rolled-back') return { state: 'started', detail: `was rolled back (${message})` };
  return { state: 'failed', detail: outcome === 'skipped' ? `was skipped (${message})` : `failed (${message})` };
}

/** The least ready replica speaks for the service. */
export function serviceStatus(replicas: readonly DependencyStatus[]): DependencyStatus {
  if (replicas.length === 0) return { state: 'missing', detail: 'is not declared in this environment' };
  return [...replicas].sort((a, b) => rank[a.state] - rank[b.state])[0]!;
}

export type GateDecision = { go: true; notes: string[] } | { go: false; reason: string };

/**
 * May a service start, given its dependencies' statuses? Each depends_on
 * entry is checked against its condition; a `required: false` entry that is
 * not satisfied is noted, never blocking.
 */
export function dependencyGate(service: ServiceManifest, statusOf: (name: string) => DependencyStatus): GateDecision {
  const notes: string[] = [];
  for (const [dep, condition] of Object.entries(service.dependsOn).sort(([a], [b]) => compareText(a, b))) {
    const status = statusOf(dep);
    if (satisfies[condition].includes(status.state)) continue;
    const why = `dependency ${dep} ${status.detail ?? describe(status.state)} (condition: ${condition})`;
    if (service.optionalDependencies?.includes(dep)) {
      notes.push(`${why}; not required, so ${service.name} goes ahead`);
      continue;
    }
    return { go: false, reason: `skipped: ${why}` };
  }
  return { go: true, notes };
}

function describe(state: DependencyState): string {
  switch (state) {
    case 'started':
      return 'is running but not proven healthy';
    case 'healthy':
      return 'is running and has not exited';
    case 'completed':
      return 'is a finished job, not a running service';
    default:
      return `is ${state}`;
  }
}

/** Statuses of every declared service after the actions so far. */
export function statusesFrom(env: LoadedEnvironment, actions: readonly Action[], outcomes: ReadonlyMap<Action, { outcome: Outcome; message: string }>): (name: string) => DependencyStatus {
  const jobs = jobServices(env.services);
  return (name) => {
    if (!env.services.some((s) => s.name === name)) return { state: 'missing', detail: 'is not declared in this environment' };
    const mine = actions.filter((a) => a.service === name && a.kind !== 'remove');
    return serviceStatus(mine.map((a) => replicaStatus(a, outcomes.get(a)?.outcome, jobs.has(name), outcomes.get(a)?.message)));
  };
}
