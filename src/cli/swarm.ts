import { UsageError } from '../errors.js';
import { hostSecrets } from '../reconcile/secrets.js';
import { labels } from '../runtime/labels.js';
import { applySwarm } from '../swarm/apply.js';
import { formatRefusals, formatSwarmApply, formatSwarmPlan } from '../swarm/format.js';
import type { SwarmPlan } from '../swarm/plan.js';
import { planSwarm, swarmInSync } from '../swarm/plan.js';
import type { SwarmPort, SwarmTask } from '../swarm/types.js';
import type { CommandTarget } from './environment.js';
import type { CliIo } from './io.js';
import { exitCodes } from './io.js';
import { cliLogger } from './logger.js';

/** Reads the environment's Swarm services and their tasks, then plans. Reads only. */
export async function swarmPlanFor(target: CommandTarget, swarm: SwarmPort): Promise<SwarmPlan> {
  await swarm.requireManager();
  const services = await swarm.listServices({ [labels.managed]: 'true', [labels.environment]: target.environment.name });
  const tasks: Record<string, SwarmTask[]> = {};
  for (const s of services) tasks[s.id] = await swarm.listTasks(s.id);
  return planSwarm(target.environment, { services, tasks }, target.revision);
}

/** `stagecoach plan` on a Swarm target: 0 in sync, 1 changes pending (or held), 2 error. */
export async function swarmPlanCommand(target: CommandTarget, swarm: SwarmPort, options: { json?: boolean }, io: CliIo): Promise<number> {
  const plan = await swarmPlanFor(target, swarm);
  io.out(options.json ? JSON.stringify(plan, null, 2) : formatSwarmPlan(plan));
  return plan.refusals.length > 0 ? exitCodes.error : swarmInSync(plan) ? exitCodes.ok : exitCodes.failed;
}

/** `stagecoach apply` on a Swarm target: 0 converged, 1 failed or rolled back (by Swarm, or held from an earlier rollback), 2 error. */
export async function swarmApplyCommand(target: CommandTarget, swarm: SwarmPort, io: CliIo): Promise<number> {
  const started = Date.now();
  const plan = await swarmPlanFor(target, swarm);
  if (plan.refusals.length > 0) throw new UsageError(`${target.environment.name} targets a Swarm, which cannot honour these fields; nothing was changed:\n${formatRefusals(plan.refusals)}`);
  const result = await applySwarm(plan, { swarm, environment: target.environment, secrets: hostSecrets(io.env.STAGECOACH_SECRETS_DIR, io.env), log: cliLogger(io.env) });
  io.out(formatSwarmApply(result, Date.now() - started));
  return result.outcome === 'converged' ? exitCodes.ok : exitCodes.failed;
}
