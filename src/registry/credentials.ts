import { RegistryError } from '../errors.js';

/** What a registry login resolves to: a user and password, or an identity (refresh) token for the token server. */
export type RegistryCredentials =
  | { kind: 'basic'; username: string; password: string; source: string }
  | { kind: 'identity-token'; token: string; source: string };

/** The parts of a Docker client config (`~/.docker/config.json`) that hold credentials. */
export interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/**
 * Runs `docker-credential-<helper> get` with the server address on stdin.
 * Resolves undefined when the helper knows no credentials for it.
 */
export type CredentialHelper = (helper: string, serverAddress: string) => Promise<{ Username: string; Secret: string } | undefined>;

/** Docker Hub is keyed under its v1 index address in every Docker config. */
export const dockerHubKey = 'https://index.docker.io/v1/';
const dockerHubHosts = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** The keys a registry host may be stored under, most specific first (as `docker login` writes them, and the older forms). */
export function configKeys(host: string): string[] {
  if (dockerHubHosts.has(host)) return [dockerHubKey, 'index.docker.io', 'docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1'];
  return [host, `https://${host}`, `http://${host}`, `https://${host}/v1/`, `https://${host}/v2/`, `http://${host}/v1/`, `http://${host}/v2/`];
}

/** Parses the text of a Docker config file; names the file in the error. */
export function parseDockerConfig(text: string, file: string): DockerConfig {
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as DockerConfig;
  } catch (cause) {
    throw new RegistryError(`registry credentials: ${file} is not valid JSON (${(cause as Error).message}); fix or remove it on the daemon host`, { cause });
  }
}

/**
 * Resolves the daemon host's credentials for one registry host the way the
 * docker CLI does: a per-registry `credHelpers` entry first, then the
 * `credsStore`, then the plain `auths` entry. Never reads anything from the
 * config repo: credentials belong to the operator of the host.
 */
export async function resolveCredentials(host: string, config: DockerConfig | undefined, helper: CredentialHelper): Promise<RegistryCredentials | undefined> {
  if (!config) return undefined;
  const keys = configKeys(host);
  const helperName = keys.map((k) => config.credHelpers?.[k]).find((h) => typeof h === 'string' && h !== '') ?? (config.credsStore || undefined);
  if (helperName) {
    for (const key of keys.slice(0, 2)) {
      const found = await helper(helperName, key);
      if (found) return fromHelper(found, `docker-credential-${helperName}`);
    }
  }
  for (const key of keys) {
    const entry = config.auths?.[key];
    if (!entry) continue;
    if (entry.identitytoken) return { kind: 'identity-token', token: entry.identitytoken, source: `auths["${key}"]` };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new RegistryError(`registry credentials for ${host}: auths["${key}"].auth is not base64 of "user:password"; run docker login ${host} again on the daemon host`);
      return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source: `auths["${key}"]` };
    }
    if (entry.username && entry.password) return { kind: 'basic', username: entry.username, password: entry.password, source: `auths["${key}"]` };
  }
  return undefined;
}

function fromHelper(found: { Username: string; Secret: string }, source: string): RegistryCredentials {
  // The credential-helper protocol marks an identity token with the user name "<token>".
  if (found.Username === '<token>') return { kind: 'identity-token', token: found.Secret, source };
  return { kind: 'basic', username: found.Username, password: found.Secret, source };
}
