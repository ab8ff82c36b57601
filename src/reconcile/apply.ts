import pLimit from 'p-limit';
import { networkName, volumeName } from '../runtime/labels.js';
import type { ApplyContext, ApplyOptions } from './apply-context.js';
import { defaultReady } from './apply-context.js';
import { managedLabels } from './container-spec.js';
import { ensureEnvironmentNetworks, pruneEnvironmentNetworks } from './networks.js';
import { dependencyGate, statusesFrom } from './dependencies.js';
import type { DependencyStatus } from './dependencies.js';
import { ContainerWakeups } from './wakeups.js';
import type { ServiceManifest } from '../manifest/types.js';
import type { ActionResult } from './rollout.js';
import { runAction } from './rollout.js';
import type { Action, Plan, RecoveryStep } from './types.js';
import type { EdgeResult } from '../proxy/edge-apply.js';
import { runEdgeActions } from '../proxy/edge-apply.js';

export interface RecoveryResult {
  step: RecoveryStep;
  ok: boolean;
  message: string;
}

export interface ApplyResult {
  environment: string;
  revision: string;
  /** converged: every action succeeded; failed: at least one failed or was rolled back. */
  outcome: 'converged' | 'failed';
  recovery: RecoveryResult[];
  results: ActionResult[];
  /** Edge proxy steps (src/proxy/); absent when there were none. */
  edges?: EdgeResult[];
}

async function recover(ctx: ApplyContext, step: RecoveryStep): Promise<RecoveryResult> {
  const { runtime } = ctx;
  ctx.emit(step.service, step.replica, 'recovering', step.reason);
  ctx.log.warn({ service: step.service, replica: step.replica, container: step.container.name, kind: step.kind, reason: step.reason }, 'recovering an interrupted rollout');
  try {
    switch (step.kind) {
      case 'remove-candidate':
      case 'remove-previous':
      case 'remove-duplicate':
        await runtime.stopContainer(step.container.id, 10_000);
        await runtime.removeContainer(step.container.id);
        break;
      case 'promote-candidate':
        await runtime.renameContainer(step.container.id, step.rename!);
        break;
      case 'restore-previous':
        if (step.removeFirst) {
          await runtime.stopContainer(step.removeFirst.id, 10_000);
          await runtime.removeContainer(step.removeFirst.id);
        }
        await runtime.renameContainer(step.container.id, step.rename!);
        await runtime.startContainer(step.container.id);
        break;
    }
    return { step, ok: true, message: step.reason };
  } catch (error) {
    return { step, ok: false, message: `${step.reason}; failed: ${(error as Error).message}` };
  }
}

function skipped(action: Action, message: string): ActionResult {
  return { action, outcome: 'skipped', message, durationMs: 0 };
}

/** Creates what containers share: the environment's network and its named volumes. */
async function prepare(ctx: ApplyContext, actions: Action[]): Promise<void> {
  const env = ctx.environment;
  if (!actions.some((a) => a.kind === 'create' || a.kind === 'replace' || a.kind === 'restart')) return;
  await ctx.runtime.ensureNetwork(networkName(env.name), managedLabels(env.name));
  await ensureEnvironmentNetworks(ctx.runtime, env);
  const volumes = new Set(env.services.flatMap((s) => s.spec.volumes.filter((v) => v.type === 'volume' && v.source && !v.external).map((v) => v.source!)));
  for (const volume of volumes) await ctx.runtime.ensureVolume(volumeName(env.name, volume), managedLabels(env.name));
}

/**
 * The only writer to the runtime. Finishes or undoes interrupted rollouts,
 * then runs the plan step by step (actions of a step in parallel), skipping
 * services whose dependencies failed. A failed update rolls back inside its
 * action; the result says so with the reason and the failing container's logs.
 */
export async function apply(plan: Plan, options: ApplyOptions): Promise<ApplyResult> {
  const log = options.log.child({ environment: plan.environment, revision: plan.revision });
  const ctx: ApplyContext = {
    runtime: options.runtime,
    environment: options.environment,
    revision: plan.revision,
    secrets: options.secrets,
    log,
    ready: { ...defaultReady, ...options.ready },
    logLines: options.logLines ?? 20,
    emit: (service, replica, phase, message) => options.onEvent?.({ environment: plan.environment, service, replica, phase, message }),
    failpoint: async (name, service) => {
      await options.failpoint?.(name, service);
    },
    edgeImages: options.edgeImages,
    imageChecks: new Map(),
  };
  const edges: EdgeResult[] = await runEdgeActions(ctx, plan.edges, 'before-recovery');
  const recovery: RecoveryResult[] = [];
  for (const step of plan.recovery) recovery.push(await recover(ctx, step));
  edges.push(...(await runEdgeActions(ctx, plan.edges, 'after-recovery')));

  const changes = plan.actions.filter((a) => a.kind !== 'noop');
  const results: ActionResult[] = [];
  const done = new Map<Action, { outcome: ActionResult['outcome']; message: string }>();
  const statusOf = statusesFrom(options.environment, plan.actions, done);
  const manifests = new Map(options.environment.services.map((s) => [s.name, s]));
  // The event stream opens while the network is prepared: one round trip less before the first start.
  const starts = changes.some((a) => a.kind !== 'remove');
  const wakeups = starts ? new ContainerWakeups(ctx.runtime, managedLabels(plan.environment), ctx.ready.sleep) : undefined;
  try {
    try {
      await prepare(ctx, changes);
    } catch (error) {
      const message = `cannot prepare ${plan.environment}: ${(error as Error).message}`;
      log.error({ err: error }, 'cannot prepare the environment network or volumes');
      return { environment: plan.environment, revision: plan.revision, outcome: 'failed', recovery, results: changes.map((a) => ({ action: a, outcome: 'failed', message, durationMs: 0 })) };
    }
    edges.push(...(await runEdgeActions(ctx, plan.edges, 'before-services')));
    if (wakeups) {
      ctx.wakeups = wakeups;
      const waited = new AbortController();
      await Promise.race([wakeups.opened, ctx.ready.sleep(1_000, waited.signal)]); // a stream that will not open must not hold the rollout
      waited.abort();
    }
    await runSteps(ctx, plan, changes, options, results, done, statusOf, manifests);
  } finally {
    wakeups?.close();
  }
  edges.push(...(await runEdgeActions(ctx, plan.edges, 'after-services')));
  const outcome = results.every((r) => r.outcome === 'ok') && recovery.every((r) => r.ok) && edges.every((e) => e.ok) ? 'converged' : 'failed';
  if (outcome === 'converged' && options.environment.environment.sync.prune) await pruneEnvironmentNetworks(ctx.runtime, options.environment, log);
  return { environment: plan.environment, revision: plan.revision, outcome, recovery, results, ...(edges.length > 0 ? { edges } : {}) };
}

async function runSteps(
  ctx: ApplyContext,
  plan: Plan,
  changes: Action[],
  options: ApplyOptions,
  results: ActionResult[],
  done: Map<Action, { outcome: ActionResult['outcome']; message: string }>,
  statusOf: (name: string) => DependencyStatus,
  manifests: Map<string, ServiceManifest>,
): Promise<void> {
  const log = ctx.log;
  const limit = pLimit(options.environment.environment.sync.parallelism); // a step's services at once
  const steps = [...new Set(changes.map((a) => a.step))].sort((a, b) => a - b);
  for (const stepNumber of steps) {
    const batch = changes.filter((a) => a.step === stepNumber);
    if (options.signal?.aborted) {
      for (const action of batch) results.push(skipped(action, `skipped: ${String(options.signal.reason ?? 'stopping')}`));
      continue;
    }
    const settled = await Promise.all(
      batch.map((action) =>
        limit(async () => {
          const manifest = manifests.get(action.service);
          const gate = manifest && action.kind !== 'remove' ? dependencyGate(manifest, statusOf) : { go: true as const, notes: [] };
          if (!gate.go) return skipped(action, gate.reason);
          const slog = log.child({ service: action.service, replica: action.replica });
          for (const note of gate.notes) slog.warn({ note }, 'optional dependency not ready; going ahead');
          slog.info({ action: action.kind, reasons: action.reasons, changes: action.changes, image: action.image }, `${action.kind} ${action.service}`);
          const result = await runAction(ctx, action);
          const level = result.outcome === 'ok' ? 'info' : 'error';
          slog[level]({ outcome: result.outcome, detail: result.message, logTail: result.logTail, durationMs: result.durationMs }, `${action.kind} ${result.outcome}`);
          ctx.emit(action.service, action.replica, result.outcome === 'ok' ? 'done' : 'failed', result.message);
          return result;
        }),
      ),
    );
    for (const result of settled) {
      done.set(result.action, { outcome: result.outcome, message: result.message });
      if (result.outcome === 'skipped') ctx.emit(result.action.service, result.action.replica, 'skipped', result.message);
      results.push(result);
    }
  }
}
