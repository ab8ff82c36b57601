import type { LoadedEnvironment } from '../manifest/types.js';
import type { MarkerService } from '../promotion/marker.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { SwarmPort } from '../swarm/types.js';
import { imageFacts } from './promotion-steps.js';
import { isRunning, observeSwarm, serviceOf } from './swarm-status.js';

const pinned = /@(sha256:[0-9a-f]{64})$/;

/**
 * What a Swarm environment's marker records for each service: the image of
 * the manifest, and the digest its running tasks use. A task whose image
 * Swarm pinned (name@sha256:…) gives the digest as is; otherwise the digest
 * is the one the manager's engine pulled it by (its RepoDigests), and null
 * for an image no registry served (built or loaded on the node).
 */
export async function swarmMarkerFacts(swarm: SwarmPort, runtime: ContainerRuntime, env: LoadedEnvironment): Promise<Record<string, MarkerService>> {
  const observed = await observeSwarm(swarm, env.name);
  const out: Record<string, MarkerService> = {};
  for (const s of env.services) {
    const o = serviceOf(observed, env.name, s.name);
    const running = (o ? (observed.tasks[o.id] ?? []) : []).filter((t) => isRunning(t) && t.specHash === o?.specHash);
    const taskImage = running.map((t) => t.image).sort()[0];
    const digest = taskImage ? pinned.exec(taskImage)?.[1] : undefined;
    const facts = await imageFacts(runtime, taskImage ?? s.spec.image);
    out[s.name] = { image: s.spec.image, digest: digest ?? facts.digest, imageId: facts.imageId };
  }
  return out;
}
