import type { Logger } from 'pino';
import { DeployError } from '../errors.js';
import type { LoadedEnvironment } from '../manifest/types.js';
import { managedLabels } from '../reconcile/container-spec.js';
import type { SecretSource } from '../reconcile/secrets.js';
import { networkName } from '../runtime/labels.js';
import type { SwarmAction, SwarmPlan } from './plan.js';
import { ensureSwarmFiles, pruneSwarmFiles } from './file-sync.js';
import { taskProgress } from './progress.js';
import { buildServiceBody } from './service-spec.js';
import { swarmFiles } from './swarm-files.js';
import type { ObservedService, SwarmPort, SwarmTask } from './types.js';
import { compareText } from '../text-order.js';

export const swarmOutcomes = ['converged', 'rolled back', 'failed'] as const;
export type SwarmOutcome = (typeof swarmOutcomes)[number];

export const swarmActionOutcomes = ['ok', 'rolled back', 'failed', 'skipped'] as const;
export type SwarmActionOutcome = (typeof swarmActionOutcomes)[number];

export interface SwarmActionResult {
  action: SwarmAction;
  outcome: SwarmActionOutcome;
  message: string;
  /** The failing task's last lines, for rolled back and failed. */
  logTail?: string;
  /** Images of the running tasks as Swarm resolved them (name@sha256:… when a registry answered). */
  images?: string[];
  /** A failure worth retrying as is (the engine went away). */
  transient?: boolean;
}

export interface SwarmApplyResult {
  environment: string;
  revision: string;
  outcome: SwarmOutcome;
  results: SwarmActionResult[];
}

export interface SwarmApplyDeps {
  swarm: SwarmPort;
  environment: LoadedEnvironment;
  secrets: SecretSource;
  log?: Logger;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** How long one service may take to converge (default 180 s). */
  timeoutMs?: number;
  pollMs?: number;
}

/** The newest task of this spec that failed, for its reason and logs. */
function failedTask(tasks: SwarmTask[], hash: string): SwarmTask | undefined {
  return tasks
    .filter((t) => t.specHash === hash && (t.state === 'failed' || t.state === 'rejected' || (t.state === 'shutdown' && t.exitCode !== null && t.exitCode !== 0)))
    .sort((a, b) => compareText(b.createdAt, a.createdAt))[0];
}

/**
 * Waits until the service runs its replicas of `hash`, or Swarm rolls the
 * update back or pauses it. An update status counts only when it began
 * after `since` (the one read before this change), so an old rollback is
 * never mistaken for this one.
 */
async function converge(deps: SwarmApplyDeps, id: string, hash: string, since: string | null, restart: string): Promise<Omit<SwarmActionResult, 'action'>> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const deadline = now() + (deps.timeoutMs ?? 180_000);
  let service: ObservedService | undefined;
  let tasks: SwarmTask[] = [];
  for (;;) {
    service = await deps.swarm.inspectService(id);
    if (!service) return { outcome: 'failed', message: `service ${id} disappeared while it was being updated` };
    tasks = await deps.swarm.listTasks(id);
    const update = service.update && service.update.startedAt !== since ? service.update : null;
    const why = async (task = failedTask(tasks, hash)) => ({ logTail: task ? await deps.swarm.taskLogsTail(task, 20) : undefined, task });
    if (update?.state === 'rollback_completed' || update?.state === 'rollback_paused') {
      const { logTail, task } = await why();
      const detail = task ? `; task ${task.id.slice(0, 12)}: ${task.error ?? task.message}` : '';
      return { outcome: 'rolled back', message: `Swarm rolled the update back: ${update.message}${detail}`, logTail };
    }
    if (update?.state === 'paused') {
      const { logTail, task } = await why();
      return { outcome: 'failed', message: `Swarm paused the update: ${update.message}${task ? `; task ${task.id.slice(0, 12)}: ${task.error ?? task.message}` : ''}`, logTail };
    }
    const settled = !update || update.state === 'completed';
    const progress = taskProgress(service, tasks, hash);
    if (settled && progress.done) return { outcome: 'ok', message: progress.message, images: progress.images };
    // A job task that failed with restart: no is final: Swarm will not run it again.
    const final = service.mode.endsWith('-job') && restart === 'no' ? failedTask(tasks, hash) : undefined;
    if (final) {
      const { logTail } = await why(final);
      return { outcome: 'failed', message: `job task ${final.id.slice(0, 12)} failed: ${final.error ?? final.message} (${progress.message})`, logTail };
    }
    if (now() >= deadline) {
      const { logTail, task } = await why();
      return { outcome: 'failed', message: `not converged after ${Math.round((deps.timeoutMs ?? 180_000) / 1000)}s: ${progress.message}${task ? `; last failure: ${task.error ?? task.message}` : ''}`, logTail };
    }
    await sleep(deps.pollMs ?? 500);
  }
}

async function applyAction(plan: SwarmPlan, a: SwarmAction, deps: SwarmApplyDeps): Promise<Omit<SwarmActionResult, 'action'>> {
  const env = deps.environment;
  if (a.kind === 'remove') {
    await deps.swarm.removeService(a.serviceId!);
    return { outcome: 'ok', message: `removed ${a.service}` };
  }
  const service = env.services.find((s) => s.name === a.service)!;
  const ids = await ensureSwarmFiles(deps.swarm, swarmFiles(env, service, deps.secrets));
  const body = buildServiceBody(env, service, plan.revision, deps.secrets, ids);
  // Swarm cannot change a service's mode in place: the plan asks for the old service to go first.
  if (a.recreate) await deps.swarm.removeService(a.serviceId!);
  if (a.kind === 'create' || a.recreate) {
    const id = await deps.swarm.createService(body);
    const result = await converge(deps, id, service.specHash, null, service.spec.restart);
    return result.outcome === 'ok' ? { ...result, message: `${a.recreate ? 'recreated' : 'created'} ${body.Name}: ${result.message}` } : result;
  }
  const before = await deps.swarm.inspectService(a.serviceId!);
  await deps.swarm.updateService(a.serviceId!, body);
  const result = await converge(deps, a.serviceId!, service.specHash, before?.update?.startedAt ?? null, service.spec.restart);
  return result.outcome === 'ok' ? { ...result, message: `${a.kind === 'heal' ? 'healed' : 'updated'} ${body.Name} (${a.order ?? 'run again'}): ${result.message}` } : result;
}

/** Applies a Swarm plan: the only code that writes to Swarm. One service at a time; a rollback stops the rest. */
export async function applySwarm(plan: SwarmPlan, deps: SwarmApplyDeps): Promise<SwarmApplyResult> {
  if (plan.refusals.length > 0) throw new DeployError(`${plan.environment}: ${plan.refusals.length} field(s) Swarm cannot honour; nothing was changed`);
  await deps.swarm.ensureOverlayNetwork(networkName(plan.environment), managedLabels(plan.environment));
  const results: SwarmActionResult[] = [];
  let stop = false;
  for (const action of plan.actions) {
    if (action.kind === 'noop') continue;
    if (action.kind === 'held') {
      results.push({ action, outcome: 'rolled back', message: action.reasons.join('; ') });
      continue;
    }
    if (stop) {
      results.push({ action, outcome: 'skipped', message: 'not attempted: an earlier service did not converge' });
      continue;
    }
    deps.log?.info({ environment: plan.environment, service: action.service, action: action.kind, reasons: action.reasons }, `${action.kind} ${action.service}`);
    let result: Omit<SwarmActionResult, 'action'>;
    try {
      result = await applyAction(plan, action, deps);
    } catch (error) {
      result = { outcome: 'failed', message: (error as Error).message, ...((error as { transient?: boolean }).transient ? { transient: true } : {}) };
    }
    results.push({ action, ...result });
    if (result.outcome !== 'ok') stop = true;
  }
  // Old versions of secrets and configs: a failure to prune leaves them behind (logged), it does not undo the services' outcome.
  await pruneSwarmFiles(deps.swarm, plan.environment, deps.log).catch((error: unknown) => deps.log?.warn({ environment: plan.environment, err: (error as Error).message }, 'could not prune Swarm secrets and configs'));
  const outcome: SwarmOutcome = results.some((r) => r.outcome === 'rolled back') ? 'rolled back' : results.some((r) => r.outcome !== 'ok') ? 'failed' : 'converged';
  return { environment: plan.environment, revision: plan.revision, outcome, results };
}
