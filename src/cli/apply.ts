import { apply } from '../reconcile/apply.js';
import type { Failpoint } from '../reconcile/apply-context.js';
import { formatApplyResult } from '../reconcile/format.js';
import { hostSecrets } from '../reconcile/secrets.js';
import { edgeImageSupply } from './edge-images.js';
import { loadTarget } from './environment.js';
import type { CliIo } from './io.js';
import { exitCodes } from './io.js';
import { cliLogger } from './logger.js';
import { planFor } from './plan.js';
import { progressPrinter } from './progress.js';
import { swarmApplyCommand } from './swarm.js';

/**
 * Fault injection for crash-safety tests: STAGECOACH_FAILPOINT=after-create:web
 * kills this process with SIGKILL at that point of web's rollout.
 */
function failpointFromEnv(env: NodeJS.ProcessEnv) {
  const wanted = env.STAGECOACH_FAILPOINT;
  if (!wanted) return undefined;
  return (name: Failpoint, service: string) => {
    if (wanted === `${name}:${service}` || wanted === name) process.kill(process.pid, 'SIGKILL');
  };
}

/** `stagecoach apply`: 0 converged, 1 failed (rolled back), 2 error. */
export async function applyCommand(options: { repo?: string; env?: string }, io: CliIo): Promise<number> {
  const target = await loadTarget(options, io);
  if (target.swarm) return swarmApplyCommand(target, target.swarm, io);
  const log = cliLogger(io.env);
  const started = Date.now();
  const planned = await planFor(target);
  const result = await apply(planned, {
    runtime: target.runtime,
    environment: target.environment,
    secrets: hostSecrets(io.env.STAGECOACH_SECRETS_DIR, io.env),
    log,
    onEvent: progressPrinter(io),
    failpoint: failpointFromEnv(io.env),
    edgeImages: edgeImageSupply(io.env, target.runtime),
  });
  io.out(formatApplyResult(result, Date.now() - started));
  return result.outcome === 'converged' ? exitCodes.ok : exitCodes.failed;
}
