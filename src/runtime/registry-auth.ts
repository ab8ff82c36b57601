import { DockerError } from '../errors.js';
import { dockerHubKey } from '../registry/credentials.js';
import type { CredentialHelper } from '../registry/credentials.js';
import { hostCredentials } from '../registry/host-credentials.js';
import { processCredentialHelper } from '../registry/helper-process.js';
import { registryTarget } from '../registry/target.js';
import type { RegistryAuth } from './types.js';

/**
 * Credentials for a deploy pull: the same resolution as registry watching
 * (the daemon host's Docker config `auths`, `credsStore` and `credHelpers`),
 * shaped as the engine's X-Registry-Auth.
 */
export async function registryAuthFor(ref: string, configPath: string, host: string, helper: CredentialHelper | undefined = undefined): Promise<RegistryAuth | undefined> {
  let registry: string;
  try {
    registry = registryTarget(ref).host;
  } catch {
    return undefined; // a malformed reference: the engine's own error says why
  }
  const creds = await hostCredentials(configPath, helper ?? processCredentialHelper())(registry).catch((cause: unknown) => {
    throw new DockerError(`docker at ${host}: cannot pull image ${ref}: ${(cause as Error).message}`, { cause });
  });
  if (!creds) return undefined;
  const serveraddress = registry === 'docker.io' ? dockerHubKey : registry;
  if (creds.kind === 'identity-token') return { identitytoken: creds.token, serveraddress };
  return { username: creds.username, password: creds.password, serveraddress };
}

export function explainPull(message: string): { text: string; transient: boolean } {
  if (/not found|manifest unknown|does not exist|pull access denied|denied|unauthorized|authentication required|no basic auth credentials/i.test(message)) {
    return { text: `image not found in its registry, or access denied (check the name, tag and credentials): ${message}`, transient: false };
  }
  if (/dial tcp|connection refused|no such host|i\/o timeout|timeout|network is unreachable|EOF/i.test(message)) {
    return { text: `the registry is unreachable from the engine (no network, wrong host or port?): ${message}`, transient: true };
  }
  return { text: message, transient: false };
}
