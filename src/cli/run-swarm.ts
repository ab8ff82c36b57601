import type { SwarmDeployDeps } from '../daemon/swarm-deploy.js';
import { SwarmDeploy } from '../daemon/swarm-deploy.js';
import type { EnvironmentManifest } from '../manifest/types.js';
import { dockerClientFor } from '../runtime/docker-runtime.js';
import { DockerSwarm } from '../swarm/docker-swarm.js';
import type { SwarmPort } from '../swarm/types.js';

/**
 * The daemon's Swarm targets, one per manager endpoint: its port and its
 * deploy step (which remembers the specs Swarm rolled back, so it lives as
 * long as the daemon). Part of the composition root: reads the process
 * environment handed to it for the connection, nothing else.
 */
export function swarmTargets(env: NodeJS.ProcessEnv, deps: Omit<SwarmDeployDeps, 'swarm'>) {
  const byHost = new Map<string, { port: SwarmPort; step: SwarmDeploy }>();
  const targetOf = (manifest: EnvironmentManifest) => {
    const { docker, host } = dockerClientFor(manifest.target.docker, manifest.target.tls ?? undefined, env);
    let target = byHost.get(host);
    if (!target) {
      const port = new DockerSwarm(docker, host);
      target = { port, step: new SwarmDeploy({ ...deps, swarm: port }) };
      byHost.set(host, target);
    }
    return target;
  };
  return {
    portFor: (manifest: EnvironmentManifest): SwarmPort => targetOf(manifest).port,
    stepFor: (manifest: EnvironmentManifest): SwarmDeploy => targetOf(manifest).step,
  };
}
