import { formatBinding, hostPortsClash } from '../manifest/ports.js';
import type { EnvironmentManifest, LoadedEnvironment, ServiceManifest } from '../manifest/types.js';
import { startIntervalApi, supportsStartInterval } from '../runtime/engine-version.js';
import { containerName } from '../runtime/labels.js';
import { jobServices } from './dependencies.js';
import { diffSpecs } from './diff.js';
import { planRecovery } from './recover.js';
import type { Action, ActualState, ObservedContainer, Plan, PlanNote } from './types.js';
import { edgeAction, planEdges } from '../proxy/edge-plan.js';
import { compareText } from '../text-order.js';

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

/**
 * A container that ran to completion and should stay so: a job (exit 0), or
 * any `restart: "no"` container that exited 0. Not drift; plan says why.
 */
function finished(c: ObservedContainer, desired: ServiceManifest, job: boolean): string | undefined {
  if (c.state !== 'exited') return undefined;
  const code = c.exitCode;
  if (code === 0 && job) return 'job completed (exit code 0): not run again until its spec changes';
  if (code === 0 && desired.spec.restart === 'no') return 'exited with code 0 and restart is "no": finished, not drift';
  if (job) return `job failed (exit code ${code ?? '?'}): not run again until its spec changes (push a fix); its dependants wait`;
  return undefined;
}

/** Why a running container no longer matches, beyond its spec hash: drift made outside git. */
function driftReasons(c: ObservedContainer, desired: ServiceManifest): { mode: 'start' | 'recreate'; reasons: string[] } | undefined {
  if (c.state === 'exited' || c.state === 'created' || c.state === 'dead') {
    const code = c.exitCode;
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

function planReplica(desired: ServiceManifest, replica: number, c: ObservedContainer | undefined, actual: ActualState, env: EnvironmentManifest, step: number, job: boolean): Action {
  const base = { service: desired.name, replica, image: desired.spec.image, step, ...(job ? { job } : {}) };
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
  const observed = { state: c.state, health: c.health, exitCode: c.exitCode };
  const done = finished(c, desired, job);
  if (done) return { ...base, kind: 'noop', container, observed, reasons: [done] };
  const drift = driftReasons(c, desired);
  if (drift) {
    if (!env.sync.selfHeal) return { ...base, kind: 'noop', container, observed, reasons: [...drift.reasons.map((r) => `drifted: ${r}`), 'self-heal is off: left as is'] };
    return { ...base, kind: 'restart', container, graceMs, restartMode: drift.mode, reasons: drift.reasons, order };
  }
  return { ...base, kind: 'noop', container, observed, reasons: [job && c.state === 'running' ? 'job running' : 'in sync'] };
}

/** Fields the engine would silently drop: said in the plan rather than lost. */
export function engineNotes(desired: LoadedEnvironment, actual: ActualState): PlanNote[] {
  const version = actual.engine?.apiVersion;
  if (!version || supportsStartInterval(version)) return [];
  return desired.services
    .filter((s) => s.spec.healthcheck && s.spec.healthcheck.test?.[0] !== 'NONE' && s.spec.healthcheck.startPeriodMs > 0)
    .map((s) => {
      const hc = s.spec.healthcheck!;
      return {
        service: s.name,
        message: `healthcheck.start_interval (${hc.startIntervalMs / 1000}s) is not sent: the engine speaks API ${version}, start_interval needs ${startIntervalApi} (Docker 25); during start_period it probes every interval (${hc.intervalMs / 1000}s)`,
      };
    });
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
  const jobs = jobServices(desired.services);
  const firstStep = 1;
  const actions: Action[] = [];
  const wanted = new Set<string>();
  // The first container of each service and replica, found in one pass (a find per replica is quadratic at 1,000 services).
  const current = new Map<string, (typeof containers)[number]>();
  for (const c of containers) if (!current.has(`${c.service}\0${c.replica}`)) current.set(`${c.service}\0${c.replica}`, c);
  for (const service of desired.services) {
    const step = firstStep + (levels.get(service.name) ?? 0);
    for (let replica = 1; replica <= service.replicas; replica++) {
      wanted.add(`${service.name}\0${replica}`);
      const c = current.get(`${service.name}\0${replica}`);
      actions.push(edgeAction(planReplica(service, replica, c, actual, desired.environment, step, jobs.has(service.name)), service, c, desired.environment.sync.selfHeal));
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
  actions.sort((a, b) => a.step - b.step || compareText(a.service, b.service) || (a.replica ?? 0) - (b.replica ?? 0));
  const edges = planEdges(desired, containers, recovery.steps, actual.edges ?? [], actions);
  const notes = engineNotes(desired, actual);
  return { environment: desired.name, revision, recovery: recovery.steps, actions, ...(edges.length > 0 ? { edges } : {}), ...(notes.length > 0 ? { notes } : {}) };
}

export function nameFor(env: string, service: ServiceManifest, replica: number): string {
  return service.spec.containerName ?? containerName(env, service.name, replica, service.replicas);
}
