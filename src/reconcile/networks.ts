import type { Logger } from 'pino';
import { defaultNetwork } from '../manifest/service-networks.js';
import type { LoadedEnvironment } from '../manifest/types.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { DeployError } from '../errors.js';
import { managedLabels } from './container-spec.js';

/** Marks the environment-level networks stagecoach created (the default network does not carry it, so it is never pruned). */
export const networkLabel = 'io.stagecoach.network';
/** The definition digest a network was created from (NetworkDefinition.digest). */
export const networkDefinitionLabel = 'io.stagecoach.network-definition';

/** The environment's own networks that its active services join: the ones to create. */
function wanted(env: LoadedEnvironment): string[] {
  const used = new Set(env.services.flatMap((s) => Object.keys(s.spec.networks ?? {})).filter((k) => k !== defaultNetwork));
  return [...used].filter((key) => env.environment.networks?.[key] && !env.environment.networks[key]!.external).sort();
}

/**
 * Creates (labelled) the networks services join; an external one must already exist, else the container's connect fails naming it.
 *
 * A network whose definition changed in git is not recreated: Docker cannot change a network in place,
 * and removing one cuts off every container attached to it, mid-rollout and on failure alike. The
 * whole apply is refused before any container is touched, with the two ways to go on.
 */
export async function ensureEnvironmentNetworks(runtime: ContainerRuntime, env: LoadedEnvironment): Promise<void> {
  for (const key of wanted(env)) {
    const def = env.environment.networks![key]!;
    const existing = await runtime.networkLabels?.(def.name);
    const was = existing?.[networkDefinitionLabel];
    // A network created before definitions were labelled carries none: it is kept as it is.
    if (was !== undefined && def.digest !== undefined && was !== def.digest) {
      throw new DeployError(
        `network ${def.name} (networks.${key} in ${env.environment.file}) was created from another definition (internal, driver_opts, labels or ipam changed in git); stagecoach does not recreate a network that containers are attached to. Either give the network a new key in environment.yaml (a new network is created beside the old one, with another subnet if it sets one; services move to it as they are replaced, and the old one is removed once unused), or remove the containers attached to it and run "docker network rm ${def.name}": the next apply creates it from the new definition`,
      );
    }
    const labels = { ...def.labels, ...managedLabels(env.name), [networkLabel]: key, ...(def.digest ? { [networkDefinitionLabel]: def.digest } : {}) };
    await runtime.ensureNetwork(def.name, labels, { internal: def.internal, driverOpts: def.driverOpts, subnets: def.subnets });
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
