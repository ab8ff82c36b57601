import pLimit from 'p-limit';
import { networkName, volumeName } from '../runtime/labels.js';
import type { ApplyContext, ApplyOptions } from './apply-context.js';
import { defaultReady } from './apply-context.js';
import { managedLabels } from './container-spec.js';
import { ensureEnvironmentNetworks, pruneEnvironmentNetworks } from './networks.js';
import type { ActionResult } from './rollout.js';
import { runAction } from './rollout.js';
import type { Action, Plan, RecoveryStep } from './types.js';

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
  };
  const recovery: RecoveryResult[] = [];
  for (const step of plan.recovery) recovery.push(await recover(ctx, step));

  const changes = plan.actions.filter((a) => a.kind !== 'noop');
  const results: ActionResult[] = [];
  const failedServices = new Set<string>();
  const dependsOn = new Map(options.environment.services.map((s) => [s.name, Object.keys(s.dependsOn)]));
  const limit = pLimit(options.concurrency ?? 8);
  try {
    await prepare(ctx, changes);
  } catch (error) {
    const message = `cannot prepare ${plan.environment}: ${(error as Error).message}`;
    log.error({ err: error }, 'cannot prepare the environment network or volumes');
    return { environment: plan.environment, revision: plan.revision, outcome: 'failed', recovery, results: changes.map((a) => ({ action: a, outcome: 'failed', message, durationMs: 0 })) };
  }

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
          const failedDep = (dependsOn.get(action.service) ?? []).find((d) => failedServices.has(d));
          if (failedDep) return skipped(action, `skipped: dependency ${failedDep} failed`);
          const slog = log.child({ service: action.service, replica: action.replica });
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
      if (result.outcome !== 'ok') failedServices.add(result.action.service);
      if (result.outcome === 'skipped') ctx.emit(result.action.service, result.action.replica, 'skipped', result.message);
      results.push(result);
    }
  }
  const outcome = results.every((r) => r.outcome === 'ok') && recovery.every((r) => r.ok) ? 'converged' : 'failed';
  if (outcome === 'converged' && options.environment.environment.sync.prune) await pruneEnvironmentNetworks(ctx.runtime, options.environment, log);
  return { environment: plan.environment, revision: plan.revision, outcome, recovery, results };
}
