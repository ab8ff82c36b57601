import { observe } from '../reconcile/observe.js';
import { plan } from '../reconcile/plan.js';
import { formatPlan } from '../reconcile/format.js';
import { inSync } from '../reconcile/types.js';
import type { Plan } from '../reconcile/types.js';
import type { CommandTarget } from './environment.js';
import { loadTarget } from './environment.js';
import type { CliIo } from './io.js';
import { exitCodes } from './io.js';

export async function planFor(target: CommandTarget): Promise<Plan> {
  const images = target.environment.services.map((s) => s.spec.image);
  const desiredHashes = new Map(target.environment.services.map((s) => [s.name, s.specHash]));
  const actual = await observe(target.runtime, target.environment.name, images, { desiredHashes });
  return plan(target.environment, actual, target.revision);
}

/** `stagecoach plan`: 0 in sync, 1 changes pending, 2 error. Reads only. */
export async function planCommand(options: { repo?: string; env?: string; json?: boolean }, io: CliIo): Promise<number> {
  const target = await loadTarget(options, io);
  if (target.swarm) return (await import('./swarm.js')).swarmPlanCommand(target, target.swarm, options, io); // loads pino and the Swarm code only for a Swarm
  const result = await planFor(target);
  io.out(options.json ? JSON.stringify(result, null, 2) : formatPlan(result));
  return inSync(result) ? exitCodes.ok : exitCodes.failed;
}
