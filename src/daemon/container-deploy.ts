import type { Logger } from 'pino';
import type { LoadedEnvironment } from '../manifest/types.js';
import { apply } from '../reconcile/apply.js';
import type { ReadyOptions } from '../reconcile/health.js';
import type { EdgeImageSupply } from '../proxy/edge-image.js';
import type { DriftWatch } from '../reconcile/drift-watch.js';
import type { InspectCache } from '../reconcile/inspect-cache.js';
import { observe } from '../reconcile/observe.js';
import { plan } from '../reconcile/plan.js';
import { QuietPlans, actualFingerprint } from '../reconcile/quiet-plans.js';
import type { SecretSource } from '../reconcile/secrets.js';
import type { Action, ActualState, Plan } from '../reconcile/types.js';
import { countedRuntime } from '../runtime/counted-runtime.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { ActionResult } from '../reconcile/rollout.js';
import { revisionLabel } from '../reconcile/format.js';
import type { Clock } from './clock.js';
import { decisionLog } from './deploy-step.js';
import type { DeployInput, DeployResult, DeployStep, FailedUpdate } from './deploy-step.js';
import type { Metrics } from './metrics.js';
import type { Decision, DecisionKind, ServiceStatus } from './status.js';

export interface ContainerDeployDeps {
  runtime: ContainerRuntime;
  secrets: SecretSource;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
  ready?: Partial<ReadyOptions>;
  /** Remembers inspects of unchanged containers: a drift check with nothing changed is one list call. */
  cache?: InspectCache;
  /** Where the edge proxy image comes from when the engine lacks it and no registry has it. */
  edgeImages?: EdgeImageSupply;
  /** The engine's event stream: it may vouch that a quiet environment is unchanged, so a periodic check skips its list call. */
  watch?: DriftWatch;
}

function holdFailed(planned: Plan, failed: FailedUpdate | undefined): { plan: Plan; held: Action[] } {
  if (!failed || failed.revision !== planned.revision) return { plan: planned, held: [] };
  const held: Action[] = [];
  const actions = planned.actions.map((a) => {
    if (!failed.services.has(a.service) || (a.kind !== 'replace' && a.kind !== 'create')) return a;
    const reason = `the update to ${revisionLabel(planned.revision)} failed before; not retried until a new revision or a manual sync`;
    const noop = { ...a, kind: 'noop' as const, reasons: [...a.reasons, reason] };
    held.push(noop);
    return noop;
  });
  return { plan: { ...planned, actions }, held };
}

function emptyPlan(env: LoadedEnvironment, revision: string): Plan {
  return { environment: env.name, revision, recovery: [], actions: [] };
}

/** A check with nothing to apply: synced, or degraded while an update that failed before is held back (heldErrors says which). */
function nothingApplied(services: readonly ServiceStatus[], decisions: Decision[], failed: FailedUpdate | undefined, heldErrors: string[]): DeployResult {
  const held = heldErrors.length > 0;
  return { services: services as ServiceStatus[], decisions, failed, changed: false, transient: [], target: 'engine', state: held ? 'degraded' : 'synced', errors: heldErrors, applied: true, converged: !held };
}

function decisionOf(r: ActionResult): DecisionKind {
  if (r.outcome === 'rolled-back') return 'rollback';
  if (r.outcome === 'skipped') return 'skip';
  if (r.outcome === 'failed') return 'error';
  return r.action.kind === 'remove' ? 'remove' : r.action.kind === 'restart' ? 'heal' : 'deploy';
}

/**
 * What status shows of each service. When it is what status already shows
 * (a drift check with nothing new), the previous list itself: status keeps
 * sharing it rather than storing and freezing a copy of every service.
 */
function describeServices(env: LoadedEnvironment, actual: ActualState, previous: readonly ServiceStatus[]): ServiceStatus[] {
  const last = new Map(previous.map((s) => [s.name, s.lastAction]));
  const current = new Map<string, ActualState['containers'][number]>();
  for (const x of actual.containers) if (x.slot === 'current' && !current.has(x.service)) current.set(x.service, x);
  const described = env.services.map((s): ServiceStatus => {
    const c = current.get(s.name);
    return { name: s.name, image: c ? c.image : null, desiredImage: s.spec.image, state: c?.state ?? 'missing', health: c?.health ?? 'none', lastAction: last.get(s.name) ?? null };
  });
  const same = (a: ServiceStatus, b: ServiceStatus | undefined) =>
    b !== undefined && a.name === b.name && a.image === b.image && a.desiredImage === b.desiredImage && a.state === b.state && a.health === b.health && a.lastAction === b.lastAction && b.swarm === undefined;
  return described.length === previous.length && described.every((s, i) => same(s, previous[i])) ? (previous as ServiceStatus[]) : described;
}

/** The deploy step for containers on one Docker engine: observe, plan, apply; never throws for a failed update. */
export class ContainerDeploy implements DeployStep {
  private readonly deps: ContainerDeployDeps;
  /** Environments whose last check had nothing to do: observed the same again, they are not planned again. */
  private readonly quiet = new QuietPlans();

  constructor(deps: ContainerDeployDeps) {
    // Every engine call of observe and apply is counted (stagecoach_docker_api_calls_total): a drift check's cost shows on /metrics.
    this.deps = { ...deps, runtime: countedRuntime(deps.runtime, (operation) => deps.metrics.dockerCalls.inc({ operation })) };
  }

  /** One observation, told to the drift watch with the mark taken before its list call. */
  private async observe(environment: string, images: string[]): Promise<ActualState> {
    const { deps } = this;
    const { watch } = deps;
    const mark = watch?.mark();
    const actual = await observe(deps.runtime, environment, images, { cache: deps.cache });
    if (watch && mark !== undefined) watch.listed(environment, mark);
    return actual;
  }

  async deploy(input: DeployInput): Promise<DeployResult> {
    const { env, revision, failed, trigger, signal } = input;
    const { deps } = this;
    const started = Date.now();
    const log = deps.log.child({ environment: env.name, revision: revisionLabel(revision) });
    const { decisions, decide, at } = decisionLog(log, deps.clock, revision);
    const images = env.services.map((s) => s.spec.image);
    // The periodic safety net, for an environment whose last plan had nothing to do: the engine's events may vouch for it.
    if (input.periodic && !failed && this.quiet.holds(env, revision)) {
      const doubt = deps.watch ? deps.watch.doubt(env.name) : 'no event stream is followed for it (resync 0s)';
      deps.metrics.driftChecks.inc({ environment: env.name, by: doubt ? 'list' : 'events' });
      if (!doubt) {
        log.debug('periodic drift check: no event of its containers or images since the last listing; not listed');
        return nothingApplied(input.services, decisions, failed, []);
      }
      log.debug({ why: doubt }, 'periodic drift check: listed');
    }
    deps.metrics.observes.inc({ environment: env.name });
    const actual = await this.observe(env.name, images);
    const fingerprint = actualFingerprint(actual);
    // Observed as the last quiet check saw it: the plan would be empty again, so it is not made.
    const quiet = !failed && this.quiet.unchanged(env, revision, fingerprint);
    const { plan: planned, held } = quiet ? { plan: emptyPlan(env, revision), held: [] } : holdFailed(plan(env, actual, revision), failed);
    let services = describeServices(env, actual, input.services);
    for (const a of held) decide('skip', a.reasons.at(-1)!, a.service);
    const changes = planned.actions.filter((a) => a.kind !== 'noop');
    const heldErrors = held.length ? [`update of ${[...new Set(held.map((a) => a.service))].join(', ')} to ${revisionLabel(revision)} failed; waiting for a new revision`] : [];
    const base = { services, decisions, failed, changed: false, transient: [] as string[], target: 'engine' as const };
    const edges = planned.edges ?? []; // edge proxy steps (src/proxy/): heal, prune, recovery
    const nothingToDo = changes.length === 0 && planned.recovery.length === 0 && edges.length === 0;
    this.quiet.record(env, revision, fingerprint, nothingToDo && !failed);
    if (nothingToDo) return nothingApplied(services, decisions, failed, heldErrors);
    if (!input.autoApply) {
      decide('skip', `sync.auto is off: ${changes.length} change(s) wait for \`stagecoach apply\` (${changes.map((a) => `${a.kind} ${a.service}`).join(', ')})`);
      return { ...base, state: 'out-of-sync', errors: heldErrors, applied: false, converged: false };
    }
    deps.metrics.setState(env.name, 'progressing');
    for (const a of changes) decide(a.kind === 'restart' ? 'heal' : a.kind === 'remove' ? 'remove' : 'deploy', `${a.kind} ${a.service}: ${a.reasons.join('; ')} (trigger: ${trigger})`, a.service);
    for (const e of edges) decide(e.kind === 'remove' ? 'remove' : 'heal', `edge proxy ${e.kind} ${e.service}: ${e.reasons.join('; ')} (trigger: ${trigger})`, e.service);
    input.progress?.({ state: 'progressing', decisions: decisions.splice(0) });
    deps.metrics.applies.inc({ environment: env.name });
    const result = await apply(planned, { runtime: deps.runtime, environment: env, secrets: deps.secrets, log: deps.log, signal, ready: deps.ready, edgeImages: deps.edgeImages });
    for (const r of result.recovery) decide('recover', r.message, r.step.service);
    const failedServices = new Set<string>();
    const transient: string[] = [];
    const lastActions = new Map<string, ServiceStatus['lastAction']>();
    for (const r of result.results) {
      deps.metrics.deploys.inc({ environment: env.name, kind: r.action.kind, result: r.outcome });
      if (r.outcome === 'rolled-back') deps.metrics.rollbacks.inc({ environment: env.name });
      if (r.outcome !== 'ok') decide(decisionOf(r), `${r.action.kind} ${r.action.service} ${r.outcome}: ${r.message}`, r.action.service);
      // A transient failure (engine or registry away) is retried with backoff; a deterministic one waits for a new revision.
      if (r.outcome === 'failed' && r.transient) transient.push(r.action.service);
      else if (r.outcome === 'failed' || r.outcome === 'rolled-back') failedServices.add(r.action.service);
      lastActions.set(r.action.service, { kind: r.action.kind, outcome: r.outcome, reasons: r.action.reasons, message: r.message, at: at() });
    }
    const after = await this.observe(env.name, images);
    services = describeServices(env, after, input.services).map((s) => (lastActions.has(s.name) ? { ...s, lastAction: lastActions.get(s.name)! } : s));
    const superseded = result.results.some((r) => r.outcome === 'skipped' && signal?.aborted);
    const durationMs = Date.now() - started;
    deps.metrics.reconcileDuration.observe({ environment: env.name, outcome: result.outcome }, durationMs / 1000);
    const changed = result.results.some((r) => r.outcome === 'ok');
    const newFailed = failedServices.size === 0 ? undefined : { revision, services: failedServices };
    if (newFailed || transient.length) deps.metrics.error(env.name);
    return {
      state: result.outcome === 'converged' ? 'synced' : superseded ? 'progressing' : 'degraded',
      target: 'engine',
      services,
      decisions,
      errors: [
        ...result.results.filter((r) => r.outcome === 'failed' || r.outcome === 'rolled-back').map((r) => `${r.action.service}: ${r.message}`),
        ...(result.edges ?? []).filter((e) => !e.ok).map((e) => `${e.action.service}: ${e.message}`),
      ],
      applied: !superseded,
      lastReconcile: { at: at(), durationMs, outcome: result.outcome },
      failed: newFailed,
      changed,
      converged: result.outcome === 'converged',
      transient,
    };
  }
}
