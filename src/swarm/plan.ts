import type { LoadedEnvironment, ServiceManifest } from '../manifest/types.js';
import { diffSpecs } from '../reconcile/diff.js';
import type { FieldChange } from '../reconcile/types.js';
import { labels } from '../runtime/labels.js';
import type { Refusal } from './service-spec.js';
import { replicasLabel, swarmRefusals } from './service-spec.js';
import { isGlobalMode, isJobMode, swarmModeOf } from './deploy-spec.js';
import { taskProgress } from './progress.js';
import type { ObservedService, SwarmTask } from './types.js';
import { compareText } from '../text-order.js';

export const swarmActionKinds = ['create', 'update', 'heal', 'remove', 'held', 'noop'] as const;
export type SwarmActionKind = (typeof swarmActionKinds)[number];

export interface SwarmAction {
  kind: SwarmActionKind;
  service: string;
  /** The Swarm service acted on (update, heal, remove, held, noop). */
  serviceId?: string;
  image: string;
  fromImage?: string;
  reasons: string[];
  changes?: FieldChange[];
  order?: 'start-first' | 'stop-first';
  /** Swarm cannot change a service's mode in place: apply removes the service and creates it again. */
  recreate?: true;
}

export interface SwarmState {
  services: ObservedService[];
  /** Tasks by service id. */
  tasks: Record<string, SwarmTask[]>;
}

export interface SwarmPlan {
  environment: string;
  revision: string;
  /** Fields Swarm cannot honour: the plan cannot be applied while there are any. */
  refusals: Refusal[];
  actions: SwarmAction[];
}

const bare = (image: string) => image.replace(/@sha256:[0-9a-f]{64}$/, '');

function taskSummary(service: ObservedService, tasks: SwarmTask[]): string {
  const progress = taskProgress(service, tasks, service.specHash);
  const failed = tasks.filter((t) => t.state === 'failed' || t.state === 'rejected').sort((a, b) => compareText(b.createdAt, a.createdAt))[0];
  return `${progress.message}${!progress.done && failed ? ` (last failure: ${failed.error ?? failed.message})` : ''}`;
}

/** Changes made to a service outside git: what `docker service update/scale` leaves behind. */
function drift(o: ObservedService, s: ServiceManifest): string[] {
  const reasons: string[] = [];
  const applied = Number(o.labels[replicasLabel] ?? s.replicas);
  if (!isGlobalMode(o.mode) && o.replicas !== applied) reasons.push(`changed outside git: replicas ${o.replicas} (spec: ${applied})`);
  if (bare(o.image) !== s.spec.image) reasons.push(`changed outside git: image ${bare(o.image)} (spec: ${s.spec.image})`);
  const wanted = Object.keys(s.spec.environment).sort().join(',');
  const actual = o.env.map((e) => e.split('=')[0]).sort().join(',');
  if (wanted !== actual) reasons.push(`changed outside git: environment variables ${actual || '(none)'} (spec: ${wanted || '(none)'})`);
  if (o.update?.state === 'paused' || o.update?.state === 'rollback_paused') reasons.push(`Swarm paused an update: ${o.update.message}`);
  return reasons;
}

function planService(env: LoadedEnvironment, s: ServiceManifest, o: ObservedService | undefined, tasks: SwarmTask[]): SwarmAction {
  // A job is run again on a change, never rolled: no update order.
  const base = { service: s.name, image: s.spec.image, ...(isJobMode(swarmModeOf(s)) ? {} : { order: s.updateOrder }) };
  if (!o) return { ...base, kind: 'create', reasons: ['missing: no Swarm service'] };
  const at = { serviceId: o.id, fromImage: bare(o.image) };
  // Swarm drops the failed spec on rollback (PreviousSpec becomes nil); its tasks stay in the history, labelled with their spec hash.
  const rolledBack = o.update?.state === 'rollback_started' || o.update?.state === 'rollback_completed';
  const tried = tasks.filter((t) => t.specHash === s.specHash && t.specHash !== o.specHash).sort((a, b) => compareText(b.createdAt, a.createdAt));
  if (rolledBack && o.specHash !== s.specHash && tried.length > 0) {
    const failure = tried.find((t) => t.error) ?? tried[0]!;
    return { ...base, ...at, kind: 'held', reasons: [`Swarm rolled this spec back (task ${failure.id.slice(0, 12)}: ${failure.error ?? failure.message}); it is not applied again until the manifests change`] };
  }
  const changes = o.spec && o.specHash !== s.specHash ? diffSpecs(o.spec, s.spec) : [];
  const mode = swarmModeOf(s);
  if (o.mode !== mode) {
    if (!changes.some((c) => c.field === 'deploy.mode')) changes.push({ field: 'deploy.mode', from: o.mode, to: mode });
    return { ...base, ...at, kind: 'update', changes, recreate: true, reasons: [`spec changed: ${changes.map((c) => c.field).join(', ')}; Swarm cannot change a service's mode (${o.mode} → ${mode}) in place, so it is removed and created again`] };
  }
  const applied = Number(o.labels[replicasLabel] ?? o.replicas);
  if (applied !== s.replicas) changes.push({ field: 'deploy.replicas', from: String(applied), to: String(s.replicas) });
  if (o.specHash !== s.specHash || applied !== s.replicas) {
    const fields = changes.map((c) => c.field).join(', ');
    return { ...base, ...at, kind: 'update', changes, reasons: [fields ? `spec changed: ${fields}` : 'spec hash differs (made by another version of stagecoach)'] };
  }
  const reasons = drift(o, s);
  if (reasons.length > 0) return { ...base, ...at, kind: env.environment.sync.selfHeal ? 'heal' : 'noop', reasons: env.environment.sync.selfHeal ? reasons : [...reasons, 'selfHeal is off'] };
  return { ...base, ...at, kind: 'noop', reasons: [`in sync; ${taskSummary(o, tasks)}`] };
}

/** What to do to make the Swarm services of one environment match its manifests, and why. Pure. */
export function planSwarm(env: LoadedEnvironment, actual: SwarmState, revision: string): SwarmPlan {
  const byName = new Map(actual.services.map((o) => [o.labels[labels.service] ?? o.name, o]));
  const actions = env.services.map((s) => planService(env, s, byName.get(s.name), actual.tasks[byName.get(s.name)?.id ?? ''] ?? []));
  const wanted = new Set(env.services.map((s) => s.name));
  for (const [name, o] of [...byName].sort(([a], [b]) => compareText(a, b))) {
    if (wanted.has(name)) continue;
    const prune = env.environment.sync.prune;
    actions.push({ kind: prune ? 'remove' : 'noop', service: name, serviceId: o.id, image: bare(o.image), reasons: [prune ? 'not in git: pruned' : 'not in git; prune is off'] });
  }
  return { environment: env.name, revision, refusals: swarmRefusals(env), actions };
}

export function swarmInSync(plan: SwarmPlan): boolean {
  return plan.refusals.length === 0 && plan.actions.every((a) => a.kind === 'noop');
}
