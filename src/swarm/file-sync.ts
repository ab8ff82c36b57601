import type { Logger } from 'pino';
import { managedLabels } from '../reconcile/container-spec.js';
import type { SwarmFileObject } from './swarm-files.js';
import type { SwarmPort } from './types.js';

/** Creates the service's secrets and configs that do not exist yet; their ids by name. */
export async function ensureSwarmFiles(swarm: SwarmPort, objects: SwarmFileObject[]): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const o of objects) ids.set(o.name, await swarm.ensureFile(o.kind, o.name, o.data, o.labels));
  return ids;
}

/**
 * Removes the environment's secrets and configs (old versions) that no service
 * uses any more. Swarm itself refuses to remove one a service still uses, so
 * an in-use object is simply kept. Names only in the log, never values.
 */
export async function pruneSwarmFiles(swarm: SwarmPort, environment: string, log?: Logger): Promise<string[]> {
  const removed: string[] = [];
  for (const f of await swarm.listFiles(managedLabels(environment))) {
    if (await swarm.removeFile(f.kind, f.id)) removed.push(f.name);
  }
  if (removed.length) log?.info({ environment, removed }, 'pruned unused Swarm secrets and configs');
  return removed;
}
