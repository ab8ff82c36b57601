import { readFile } from 'node:fs/promises';
import type { CredentialHelper, RegistryCredentials } from './credentials.js';
import { parseDockerConfig, resolveCredentials } from './credentials.js';
import { processCredentialHelper } from './helper-process.js';

/** Credentials for one registry host, or undefined for anonymous access. */
export type CredentialResolver = (host: string) => Promise<RegistryCredentials | undefined>;

/**
 * The daemon host's credentials: its Docker config file (read on every call,
 * so a `docker login` on the host takes effect without a restart) and the
 * credential helpers it names. Deploy pulls and registry watching share it.
 */
export function hostCredentials(configPath: string, helper: CredentialHelper = processCredentialHelper()): CredentialResolver {
  return async (host) => {
    let text: string;
    try {
      text = await readFile(configPath, 'utf8');
    } catch {
      return undefined; // no Docker config on this host: anonymous access
    }
    return resolveCredentials(host, parseDockerConfig(text, configPath), helper);
  };
}
