import type { LoadedEnvironment } from '../manifest/types.js';
import type { MarkerIndex } from '../promotion/marker-index.js';
import { revisionLabel } from '../reconcile/format.js';
import type { DaemonDeps } from './daemon-deps.js';
import { gateStep } from './environment-cycle.js';
import { imageDigests } from './promotion-steps.js';
import type { StatusStore } from './status-store.js';

/**
 * The promotion gate for one environment at one revision: records gate and
 * blocked reasons in the store and resolves to true when it must not deploy.
 * Digests are compared when the engine knows them, else references.
 */
export async function checkGate(deps: Pick<DaemonDeps, 'runtimeFor' | 'log' | 'metrics'>, store: StatusStore, index: MarkerIndex, env: LoadedEnvironment, revision: string, now: string): Promise<boolean> {
  if (!env.environment.promotion.from) {
    store.patch(env.name, { gate: null, blocked: [] });
    return false;
  }
  const digests = await imageDigests(deps.runtimeFor(env.environment), env).catch((error: unknown) => {
    deps.log.warn({ environment: env.name, err: (error as Error).message }, 'cannot read image digests; the gate compares by reference');
    return {};
  });
  const gate = gateStep(env, revision, store.environment(env.name), index, digests, now);
  store.patch(env.name, gate.patch);
  if (gate.blocked) {
    deps.metrics.setState(env.name, 'blocked');
    if (gate.patch.decisions?.length) deps.log.warn({ environment: env.name, revision: revisionLabel(revision), reasons: gate.patch.blocked }, 'blocked: unverified images');
  }
  return gate.blocked;
}
