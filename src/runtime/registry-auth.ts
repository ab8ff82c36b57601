import { readFile } from 'node:fs/promises';
import { DockerError } from '../errors.js';
import { parseImageRef } from '../manifest/image-ref.js';
import type { RegistryAuth } from './types.js';

export async function registryAuthFor(ref: string, configPath: string, host: string): Promise<RegistryAuth | undefined> {
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch {
    return undefined; // no config file: anonymous pull
  }
  let auths: Record<string, { auth?: string; identitytoken?: string }>;
  try {
    auths = (JSON.parse(text) as { auths?: typeof auths }).auths ?? {};
  } catch (cause) {
    throw new DockerError(`docker at ${host}: cannot pull image ${ref}: ${configPath} is not valid JSON`, { cause });
  }
  const parsed = parseImageRef(ref);
  const registry = parsed.ok ? parsed.ref.registry : undefined;
  const keys = registry === undefined || registry === 'docker.io'
    ? ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io']
    : [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
  for (const key of keys) {
    const entry = auths[key];
    if (entry?.identitytoken) return { identitytoken: entry.identitytoken, serveraddress: key };
    if (!entry?.auth) continue;
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress: key };
  }
  return undefined;
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
