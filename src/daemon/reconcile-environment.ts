import type { Logger } from 'pino';
import type { LoadedEnvironment } from '../manifest/types.js';
import { apply } from '../reconcile/apply.js';
import type { ReadyOptions } from '../reconcile/health.js';
import { observe } from '../reconcile/observe.js';
import { plan } from '../reconcile/plan.js';
import type { SecretSource } from '../reconcile/secrets.js';
import type { Action, ActualState, Plan } from '../reconcile/types.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { ActionResult } from '../reconcile/rollout.js';
import { revisionLabel } from '../reconcile/format.js';
import type { Metrics } from './metrics.js';
import type { DecisionKind, EnvironmentStatus } from './status.js';
import { recordDecision } from './status.js';

export interface EnvironmentRunDeps {
  runtime: ContainerRuntime;
  secrets: SecretSource;
  log: Logger;
  metrics: Metrics;
  now: () => Date;
  ready?: Partial<ReadyOptions>;
}

/** Updates a revision already failed for: not retried until a new revision or a manual sync. */
export interface FailedUpdate {
  revision: string;
  services: Set<string>;
}

function holdFailed(planned: Plan, failed: FailedUpdate | undefined): { plan: Plan; held: Action[] } {
  if (!failed || failed.revision !== planned.revision) return { plan: planned, held: [] };
  const held: Action[] = [];
  const actions = planned.actions.map((a) => {
    if (!failed.services.has(a.service) || (a.kind !== 'replace' && a.kind !== 'create')) return a;
    const reason = `the update to ${revisionLabel(planned.revision)} failed before; not retried until a new revision or a manual sync`;
    held.push(a);
    return { ...a, kind: 'noop' as const, reasons: [...a.reasons, reason] };
  });
  return { plan: { ...planned, actions }, held };
}

function decisionOf(r: ActionResult): DecisionKind {
  if (r.outcome === 'rolled-back') return 'rollback';
  if (r.outcome === 'skipped') return 'skip';
  if (r.outcome === 'failed') return 'error';
  return r.action.kind === 'remove' ? 'remove' : r.action.kind === 'restart' ? 'heal' : 'deploy';
}

function describeServices(env: LoadedEnvironment, actual: ActualState, st: EnvironmentStatus): void {
  const previous = new Map(st.services.map((s) => [s.name, s.lastAction]));
  st.services = env.services.map((s) => {
    const c = actual.containers.find((x) => x.service === s.name && x.slot === 'current');
    return { name: s.name, image: c ? c.image : null, desiredImage: s.spec.image, state: c?.state ?? 'missing', health: c?.health ?? 'none', lastAction: previous.get(s.name) ?? null };
  });
}

/**
 * Plans and applies one environment at one valid revision, and writes what
 * happened, with reasons, into its status. Never throws for a failed update;
 * throws only when the engine cannot be reached (the caller backs off).
 */
export async function reconcileEnvironment(
  env: LoadedEnvironment,
  revision: string,
  st: EnvironmentStatus,
  failed: FailedUpdate | undefined,
  deps: EnvironmentRunDeps,
  options: { signal?: AbortSignal; autoApply: boolean; trigger: string },
): Promise<{ failed: FailedUpdate | undefined; changed: boolean; converged: boolean }> {
  const started = Date.now();
  const log = deps.log.child({ environment: env.name, revision: revisionLabel(revision) });
  const at = () => deps.now().toISOString();
  const decide = (kind: DecisionKind, reason: string, service?: string) => {
    recordDecision(st, { at: at(), kind, revision, reason, ...(service ? { service } : {}) });
    const level = kind === 'error' || kind === 'rollback' || kind === 'invalid' ? 'warn' : 'info';
    log[level]({ decision: kind, service, reason }, `decision: ${kind}`);
  };
  const images = env.services.map((s) => s.spec.image);
  const actual = await observe(deps.runtime, env.name, images);
  const { plan: planned, held } = holdFailed(plan(env, actual, revision), failed);
  describeServices(env, actual, st);
  for (const a of held) decide('skip', a.reasons.at(-1)!, a.service);
  const changes = planned.actions.filter((a) => a.kind !== 'noop');
  st.errors = held.length ? [`update of ${[...new Set(held.map((a) => a.service))].join(', ')} to ${revisionLabel(revision)} failed; waiting for a new revision`] : [];
  if (changes.length === 0 && planned.recovery.length === 0) {
    st.state = held.length ? 'degraded' : 'synced';
    st.revision.applied = revision;
    deps.metrics.setState(env.name, st.state);
    deps.metrics.setRevision(env.name, revision);
    return { failed, changed: false, converged: held.length === 0 };
  }
  if (!options.autoApply) {
    st.state = 'out-of-sync';
    decide('skip', `sync.auto is off: ${changes.length} change(s) wait for \`stagecoach apply\` (${changes.map((a) => `${a.kind} ${a.service}`).join(', ')})`);
    deps.metrics.setState(env.name, st.state);
    return { failed, changed: false, converged: false };
  }
  st.state = 'progressing';
  deps.metrics.setState(env.name, st.state);
  for (const a of changes) decide(a.kind === 'restart' ? 'heal' : a.kind === 'remove' ? 'remove' : 'deploy', `${a.kind} ${a.service}: ${a.reasons.join('; ')} (trigger: ${options.trigger})`, a.service);
  const result = await apply(planned, { runtime: deps.runtime, environment: env, secrets: deps.secrets, log: deps.log, signal: options.signal, ready: deps.ready });
  for (const r of result.recovery) decide('recover', r.message, r.step.service);
  const failedServices = new Set<string>();
  for (const r of result.results) {
    deps.metrics.deploys.inc({ environment: env.name, kind: r.action.kind, result: r.outcome });
    if (r.outcome === 'rolled-back') deps.metrics.rollbacks.inc({ environment: env.name });
    if (r.outcome !== 'ok') decide(decisionOf(r), `${r.action.kind} ${r.action.service} ${r.outcome}: ${r.message}`, r.action.service);
    if (r.outcome === 'failed' || r.outcome === 'rolled-back') failedServices.add(r.action.service);
    const service = st.services.find((s) => s.name === r.action.service);
    if (service) service.lastAction = { kind: r.action.kind, outcome: r.outcome, reasons: r.action.reasons, message: r.message, at: at() };
  }
  const after = await observe(deps.runtime, env.name, images);
  describeServices(env, after, st);
  const superseded = result.results.some((r) => r.outcome === 'skipped' && options.signal?.aborted);
  st.state = result.outcome === 'converged' ? 'synced' : superseded ? 'progressing' : 'degraded';
  if (!superseded) st.revision.applied = revision;
  st.errors = result.results.filter((r) => r.outcome === 'failed' || r.outcome === 'rolled-back').map((r) => `${r.action.service}: ${r.message}`);
  st.lastReconcile = { at: at(), durationMs: Date.now() - started, outcome: result.outcome };
  deps.metrics.reconcileDuration.observe({ environment: env.name, outcome: result.outcome }, (Date.now() - started) / 1000);
  deps.metrics.setState(env.name, st.state);
  deps.metrics.setRevision(env.name, revision);
  const converged = result.outcome === 'converged';
  const changed = result.results.some((r) => r.outcome === 'ok');
  if (failedServices.size === 0) return { failed: undefined, changed, converged };
  deps.metrics.error(env.name);
  return { failed: { revision, services: failedServices }, changed, converged };
}
