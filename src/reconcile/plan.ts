import { formatBinding, hostPortsClash } from '../manifest/ports.js';
import type { EnvironmentManifest, LoadedEnvironment, ServiceManifest } from '../manifest/types.js';
import { containerName } from '../runtime/labels.js';
import { diffSpecs } from './diff.js';
import { planRecovery } from './recover.js';
import type { Action, ActualState, ObservedContainer, Plan } from './types.js';

/** Topological levels of the depends_on graph: level 0 depends on nothing. Cycles are rejected at load. */
export function dependencyLevels(services: readonly ServiceManifest[]): Map<string, number> {
  const byName = new Map(services.map((s) => [s.name, s]));
  const levels = new Map<string, number>();
  const levelOf = (name: string, seen: Set<string>): number => {
    const known = levels.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0;
    seen.add(name);
    const deps = Object.keys(byName.get(name)?.dependsOn ?? {}).filter((d) => byName.has(d));
    const level = deps.length === 0 ? 0 : Math.max(...deps.map((d) => levelOf(d, seen))) + 1;
    levels.set(name, level);
    return level;
  };
  for (const s of services) levelOf(s.name, new Set());
  return levels;
}

/** Why a running container no longer matches, beyond its spec hash: drift made outside git. */
function driftReasons(c: ObservedContainer, desired: ServiceManifest): { mode: 'start' | 'recreate'; reasons: string[] } | undefined {
  if (c.state === 'exited' || c.state === 'created' || c.state === 'dead') {
    const code = c.details?.exitCode;
    return { mode: c.state === 'dead' ? 'recreate' : 'start', reasons: [`${c.state === 'created' ? 'never started' : `stopped (${c.state}${code !== null && code !== undefined ? `, exit code ${code}` : ''})`}`] };
  }
  if (c.state === 'paused') return { mode: 'recreate', reasons: ['paused by hand'] };
  if (c.health === 'unhealthy') return { mode: 'recreate', reasons: ['unhealthy'] };
  const reasons: string[] = [];
  const spec = desired.spec;
  const d = c.details;
  if (d) {
    if (d.restartPolicy !== spec.restart) reasons.push(`changed outside git: restart policy ${d.restartPolicy} (spec: ${spec.restart})`);
    if (d.memoryBytes !== spec.resources.memoryBytes) reasons.push(`changed outside git: memory limit ${d.memoryBytes ?? 'none'} (spec: ${spec.resources.memoryBytes ?? 'none'})`);
    if (d.nanoCpus !== spec.resources.nanoCpus) reasons.push(`changed outside git: cpu limit ${d.nanoCpus ?? 'none'} (spec: ${spec.resources.nanoCpus ?? 'none'})`);
    if (d.pidsLimit !== spec.resources.pids) reasons.push(`changed outside git: pids limit ${d.pidsLimit ?? 'none'} (spec: ${spec.resources.pids ?? 'none'})`);
  }
  return reasons.length > 0 ? { mode: 'recreate', reasons } : undefined;
}

function planReplica(desired: ServiceManifest, replica: number, c: ObservedContainer | undefined, actual: ActualState, env: EnvironmentManifest, step: number): Action {
  const base = { service: desired.name, replica, image: desired.spec.image, step };
  if (!c) {
    const reason = replica === 1 ? 'missing: no container for this service' : `missing: no container for replica ${replica}`;
    return { ...base, kind: 'create', reasons: [reason, ...(desired.notes ?? [])] };
  }
  const container = { id: c.id, name: c.name };
  const graceMs = c.spec?.stopGraceMs;
  const order = desired.updateOrder;
  const orderReason = desired.updateOrderForced ? [desired.updateOrderReason ?? 'stop-first: a fixed host port is published'] : [];
  if (c.specHash !== desired.specHash) {
    const changes = c.spec ? diffSpecs(c.spec, desired.spec) : [];
    const reasons = changes.length > 0 ? [`spec changed: ${changes.map((x) => x.field).join(', ')}`] : ['spec hash differs (the running container predates this version of stagecoach)'];
    return { ...base, kind: 'replace', container, graceMs, fromImage: c.image, changes, reasons: [...reasons, ...orderReason, ...(desired.notes ?? [])], order };
  }
  const localId = actual.images[desired.spec.image];
  if (localId && c.imageId && localId !== c.imageId) {
    const reason = `image ${desired.spec.image} now resolves to ${localId.slice(0, 19)} (the container runs ${c.imageId.slice(0, 19)})`;
    return { ...base, kind: 'replace', container, graceMs, fromImage: c.image, changes: [], reasons: [reason, ...orderReason], order };
  }
  const drift = driftReasons(c, desired);
  if (drift) {
    if (!env.sync.selfHeal) return { ...base, kind: 'noop', container, reasons: [...drift.reasons.map((r) => `drifted: ${r}`), 'self-heal is off: left as is'] };
    return { ...base, kind: 'restart', container, graceMs, restartMode: drift.mode, reasons: drift.reasons, order };
  }
  return { ...base, kind: 'noop', container, reasons: ['in sync'] };
}

/**
 * plan(desired, actual): what to do, per service and replica, with a reason for
 * each. Pure. Interrupted rollouts are finished or undone first (plan.recovery);
 * actions are then ordered by depends_on into steps; removals come last, except
 * where a container to remove holds a host port a new container needs.
 */
export function plan(desired: LoadedEnvironment, actual: ActualState, revision: string): Plan {
  const recovery = planRecovery(actual.containers);
  const containers = recovery.after;
  const levels = dependencyLevels(desired.services);
  const firstStep = 1;
  const actions: Action[] = [];
  const wanted = new Set<string>();
  for (const service of desired.services) {
    const step = firstStep + (levels.get(service.name) ?? 0);
    for (let replica = 1; replica <= service.replicas; replica++) {
      wanted.add(`${service.name}\0${replica}`);
      const c = containers.find((x) => x.service === service.name && x.replica === replica);
      actions.push(planReplica(service, replica, c, actual, desired.environment, step));
    }
  }
  const lastStep = firstStep + Math.max(0, ...levels.values()) + 1;
  const desiredPorts = desired.services.flatMap((s) => s.spec.ports.filter((p) => p.published !== null));
  const declared = new Map(desired.services.map((s) => [s.name, s]));
  for (const c of containers) {
    if (wanted.has(`${c.service}\0${c.replica}`)) continue;
    const container = { id: c.id, name: c.name };
    const service = declared.get(c.service);
    const reason = service ? `scaled down to ${service.replicas} replica${service.replicas === 1 ? '' : 's'}` : 'no manifest names this service';
    if (!service && !desired.environment.sync.prune) {
      actions.push({ kind: 'noop', service: c.service, replica: c.replica, container, image: c.image, step: lastStep, reasons: [reason, 'prune is off: kept'] });
      continue;
    }
    const blocking = (c.spec?.ports ?? []).filter((p) => desiredPorts.some((d) => hostPortsClash(d, p)));
    const step = blocking.length > 0 ? 0 : lastStep;
    const reasons = [reason, ...(blocking.length > 0 ? [`removed first: it holds host port ${blocking.map(formatBinding).join(', ')} needed by the new containers`] : [])];
    actions.push({ kind: 'remove', service: c.service, replica: c.replica, container, graceMs: c.spec?.stopGraceMs, image: c.image, step, reasons });
  }
  actions.sort((a, b) => a.step - b.step || a.service.localeCompare(b.service) || (a.replica ?? 0) - (b.replica ?? 0));
  return { environment: desired.name, revision, recovery: recovery.steps, actions };
}

export function nameFor(env: string, service: ServiceManifest, replica: number): string {
  return service.spec.containerName ?? containerName(env, service.name, replica, service.replicas);
}
