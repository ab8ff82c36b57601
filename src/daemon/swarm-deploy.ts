import type { Logger } from 'pino';
import type { LoadedEnvironment } from '../manifest/types.js';
import { revisionLabel } from '../reconcile/format.js';
import type { SecretSource } from '../reconcile/secrets.js';
import type { SwarmApplyDeps, SwarmActionResult } from '../swarm/apply.js';
import { applySwarm } from '../swarm/apply.js';
import { formatRefusals } from '../swarm/format.js';
import type { SwarmAction, SwarmPlan } from '../swarm/plan.js';
import { planSwarm } from '../swarm/plan.js';
import type { SwarmPort } from '../swarm/types.js';
import type { Clock } from './clock.js';
import { decisionLog } from './deploy-step.js';
import type { DeployInput, DeployResult, DeployStep } from './deploy-step.js';
import type { Metrics } from './metrics.js';
import type { DecisionKind, ServiceStatus } from './status.js';
import { describeSwarmServices, observeSwarm, shortOfReplicas } from './swarm-status.js';

export interface SwarmDeployDeps {
  swarm: SwarmPort;
  secrets: SecretSource;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
  /** How applySwarm waits for convergence (tests make it instant). */
  wait?: Pick<SwarmApplyDeps, 'sleep' | 'now' | 'timeoutMs' | 'pollMs'>;
}

const decisionFor: Record<SwarmAction['kind'], DecisionKind> = { create: 'deploy', update: 'deploy', heal: 'heal', remove: 'remove', held: 'skip', noop: 'skip' };
const tailOf = (text: string | undefined) => (text ? text.trimEnd().split('\n').slice(-5).join(' | ').slice(-600) : '');
const hashOf = (env: LoadedEnvironment, service: string) => env.services.find((s) => s.name === service)?.specHash ?? '';

/**
 * The deploy step of a Swarm environment (target.mode: swarm): observe the
 * services and their tasks, plan (src/swarm/plan), apply (src/swarm/apply).
 * A spec Swarm rolled back is held, not applied again, until the manifests
 * ask for another spec of that service or a person asks for a sync: Swarm
 * forgets a rolled-back spec, so this step remembers it (and the plan also
 * sees it in the task history, which covers a restart of the daemon).
 */
export class SwarmDeploy implements DeployStep {
  /** Spec hashes Swarm rolled back, by environment, then service. */
  private readonly rolledBack = new Map<string, Map<string, string>>();
  /** Held specs already told as a decision (once each, not at every drift check). */
  private readonly told = new Set<string>();
  /** The revision whose refusals were last told, by environment. */
  private readonly refused = new Map<string, string>();

  constructor(private readonly deps: SwarmDeployDeps) {}

  async deploy(input: DeployInput): Promise<DeployResult> {
    const { env, revision, trigger } = input;
    const { deps } = this;
    const started = Date.now();
    const log = deps.log.child({ environment: env.name, revision: revisionLabel(revision), target: 'swarm' });
    const { decisions, decide, at } = decisionLog(log, deps.clock, revision);
    deps.metrics.observes.inc({ environment: env.name });
    await deps.swarm.requireManager();
    const before = await observeSwarm(deps.swarm, env.name);
    const planned = this.hold(planSwarm(env, before, revision), env, input);
    const base = { decisions, transient: [] as string[], target: 'swarm' as const, changed: false };
    if (planned.refusals.length > 0) {
      const errors = formatRefusals(planned.refusals).split('\n');
      if (this.refused.get(env.name) !== revision) decide('invalid', `${env.name} targets a Swarm, which cannot honour ${planned.refusals.length} field(s); nothing was changed: ${errors.join('; ')}`);
      this.refused.set(env.name, revision);
      return { ...base, state: 'invalid', services: describeSwarmServices(env, before, input.services), errors, applied: false, converged: false, failed: this.failedOf(env.name, revision) };
    }
    const held = planned.actions.filter((a) => a.kind === 'held');
    for (const a of held) {
      const key = `${env.name}/${a.service}/${hashOf(env, a.service)}`;
      if (!this.told.has(key)) decide('skip', `held ${a.service}: ${a.reasons.join('; ')}`, a.service);
      this.told.add(key);
    }
    const heldErrors = held.map((a) => `${a.service}: ${a.reasons.join('; ')}`);
    const changes = planned.actions.filter((a) => a.kind !== 'noop' && a.kind !== 'held');
    if (changes.length === 0) {
      const services = describeSwarmServices(env, before, input.services);
      const short = shortOfReplicas(services);
      const ok = held.length === 0 && short.length === 0;
      return { ...base, state: ok ? 'synced' : 'degraded', services, errors: [...heldErrors, ...short], applied: true, converged: ok, failed: this.failedOf(env.name, revision) };
    }
    if (!input.autoApply) {
      decide('skip', `sync.auto is off: ${changes.length} change(s) wait for \`stagecoach apply\` (${changes.map((a) => `${a.kind} ${a.service}`).join(', ')})`);
      return { ...base, state: 'out-of-sync', services: describeSwarmServices(env, before, input.services), errors: heldErrors, applied: false, converged: false, failed: this.failedOf(env.name, revision) };
    }
    deps.metrics.setState(env.name, 'progressing');
    for (const a of changes) decide(decisionFor[a.kind], `${a.kind} ${a.service}${a.order && a.kind === 'update' ? ` (${a.order})` : ''}: ${a.reasons.join('; ')} (trigger: ${trigger})`, a.service);
    input.progress?.({ state: 'progressing', decisions: decisions.splice(0) });
    deps.metrics.applies.inc({ environment: env.name });
    const result = await applySwarm({ ...planned, actions: changes }, { swarm: deps.swarm, environment: env, secrets: deps.secrets, log, ...deps.wait });
    const transient: string[] = [];
    const lastActions = new Map<string, ServiceStatus['lastAction']>();
    for (const r of result.results) {
      deps.metrics.deploys.inc({ environment: env.name, kind: r.action.kind, result: r.outcome });
      lastActions.set(r.action.service, { kind: r.action.kind, outcome: r.outcome, reasons: r.action.reasons, message: r.message, at: at() });
      if (r.outcome === 'ok') {
        this.rolledBack.get(env.name)?.delete(r.action.service);
        continue;
      }
      if (r.outcome === 'rolled back') this.recordRollback(env, r);
      if (r.outcome === 'failed' && r.transient) transient.push(r.action.service);
      const tail = tailOf(r.logTail);
      decide(r.outcome === 'rolled back' ? 'rollback' : r.outcome === 'skipped' ? 'skip' : 'error', `${r.action.kind} ${r.action.service} ${r.outcome}: ${r.message}${tail ? `; last log lines: ${tail}` : ''}`, r.action.service);
    }
    const after = await observeSwarm(deps.swarm, env.name);
    const services = describeSwarmServices(env, after, input.services, lastActions);
    const short = shortOfReplicas(services);
    const converged = result.outcome === 'converged' && held.length === 0 && short.length === 0;
    const durationMs = Date.now() - started;
    deps.metrics.reconcileDuration.observe({ environment: env.name, outcome: result.outcome }, durationMs / 1000);
    if (!converged) deps.metrics.error(env.name);
    const failures = result.results.filter((r) => r.outcome === 'failed' || r.outcome === 'rolled back').map((r) => `${r.action.service}: ${r.outcome}: ${r.message}`);
    return {
      ...base,
      state: converged ? 'synced' : 'degraded',
      services,
      errors: [...failures, ...heldErrors, ...(failures.length ? [] : short)],
      applied: true,
      lastReconcile: { at: at(), durationMs, outcome: result.outcome },
      failed: this.failedOf(env.name, revision),
      changed: result.results.some((r) => r.outcome === 'ok'),
      converged,
      transient,
    };
  }

  /**
   * Holds updates to a spec Swarm rolled back, by memory: the plan sees a
   * rollback only while Swarm keeps the failed task in its history. A manual
   * sync (the daemon forgot the failure: `input.failed` is gone) tries the
   * held specs again, once.
   */
  private hold(plan: SwarmPlan, env: LoadedEnvironment, input: DeployInput): SwarmPlan {
    const memory = this.rolledBack.get(env.name) ?? new Map<string, string>();
    this.rolledBack.set(env.name, memory);
    for (const [service, hash] of memory) if (hashOf(env, service) !== hash) memory.delete(service);
    const retry = !input.failed && memory.size > 0 ? new Set(memory.keys()) : new Set<string>();
    for (const service of retry) memory.delete(service);
    const actions = plan.actions.map((a): SwarmAction => {
      if (retry.has(a.service) && a.kind === 'held') return { ...a, kind: 'update', reasons: ['a manual sync asked to try the spec Swarm rolled back again'] };
      if (a.kind === 'held') memory.set(a.service, hashOf(env, a.service));
      if (a.kind !== 'update' || memory.get(a.service) !== hashOf(env, a.service)) return a;
      return { ...a, kind: 'held', reasons: [`Swarm rolled this spec back at ${revisionLabel(input.failed?.revision ?? plan.revision)}; it is not applied again until the manifests change (or a manual sync)`] };
    });
    return { ...plan, actions };
  }

  private recordRollback(env: LoadedEnvironment, r: SwarmActionResult): void {
    const memory = this.rolledBack.get(env.name) ?? new Map<string, string>();
    this.rolledBack.set(env.name, memory);
    const hash = hashOf(env, r.action.service);
    memory.set(r.action.service, hash);
    this.told.add(`${env.name}/${r.action.service}/${hash}`);
    this.deps.metrics.rollbacks.inc({ environment: env.name });
  }

  /** Held services make a failed update for the daemon to keep: a manual sync clears it, which tells this step to try again. */
  private failedOf(env: string, revision: string): DeployResult['failed'] {
    const memory = this.rolledBack.get(env);
    return memory && memory.size > 0 ? { revision, services: new Set(memory.keys()) } : undefined;
  }
}
