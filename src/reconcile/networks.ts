import type { Logger } from 'pino';
import { defaultNetwork } from '../manifest/service-networks.js';
import type { LoadedEnvironment } from '../manifest/types.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { managedLabels } from './container-spec.js';

/** Marks the environment-level networks stagecoach created (the default network does not carry it, so it is never pruned). */
export const networkLabel = 'io.stagecoach.network';

/** The environment's own networks that its active services join: the ones to create. */
function wanted(env: LoadedEnvironment): string[] {
  const used = new Set(env.services.flatMap((s) => Object.keys(s.spec.networks ?? {})).filter((k) => k !== defaultNetwork));
  return [...used].filter((key) => env.environment.networks?.[key] && !env.environment.networks[key]!.external).sort();
}

/** Creates (labelled) the networks services join; an external one must already exist, else the container's connect fails naming it. */
export async function ensureEnvironmentNetworks(runtime: ContainerRuntime, env: LoadedEnvironment): Promise<void> {
  for (const key of wanted(env)) {
    const def = env.environment.networks![key]!;
    await runtime.ensureNetwork(def.name, { ...def.labels, ...managedLabels(env.name), [networkLabel]: key }, { internal: def.internal, driverOpts: def.driverOpts, subnets: def.subnets });
  }
}

/**
 * Removes the environment's networks that no active service joins any more.
 * One still in use (a container not yet retired) stays, and the next pass tries again.
 */
export async function pruneEnvironmentNetworks(runtime: ContainerRuntime, env: LoadedEnvironment, log: Logger): Promise<void> {
  const keep = new Set(wanted(env).map((key) => env.environment.networks![key]!.name));
  const existing = await runtime.listNetworks(managedLabels(env.name));
  for (const name of existing) {
    // The default network (stagecoach-<env>) has no suffix and is never pruned here.
    if (keep.has(name) || !name.startsWith(`stagecoach-${env.name}-`)) continue;
    try {
      await runtime.removeNetwork(name);
    } catch (error) {
      log.warn({ network: name, err: error }, 'cannot remove a network no service uses; will retry');
    }
  }
}
