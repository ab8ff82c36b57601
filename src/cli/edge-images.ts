import { processCredentialHelper } from '../registry/helper-process.js';
import type { EdgeImageSupply } from '../proxy/edge-image.js';
import { scriptImageBuilder } from '../proxy/edge-image.js';
import { dockerClientFor, dockerConfigPath, DockerRuntime } from '../runtime/docker-runtime.js';
import type { ContainerRuntime } from '../runtime/types.js';

/**
 * The edge proxy image's supply for a command or the daemon: the local engine
 * (DOCKER_HOST, else the local socket) builds the stand-in and is the source
 * copies to remote engines come from. `reuse` is a runtime already made for
 * that same engine, if any.
 */
export function edgeImageSupply(env: NodeJS.ProcessEnv, reuse?: ContainerRuntime): EdgeImageSupply {
  const { docker, host } = dockerClientFor(null, undefined, env);
  const local = reuse?.host === host ? reuse : new DockerRuntime(docker, host, dockerConfigPath(env), processCredentialHelper({ env }));
  return { local, build: scriptImageBuilder(env) };
}
