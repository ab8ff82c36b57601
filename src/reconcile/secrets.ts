import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { EnvValue } from '../manifest/types.js';
import { DeployError } from '../errors.js';
import { isSecretName } from '../policy/secret-name.js';

/** Looks a secret up on the daemon host; undefined when it is not set. */
export type SecretSource = (name: string) => string | undefined;

export function secretEnvName(name: string): string {
  return `STAGECOACH_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * Secrets from files in `dir` (one file per secret, trailing newline dropped),
 * else from STAGECOACH_SECRET_<NAME>. A name outside the secret-name grammar
 * (a path, `..`) is never looked up: nothing outside `dir` can be read.
 */
export function hostSecrets(dir: string | undefined, env: NodeJS.ProcessEnv): SecretSource {
  return (name) => {
    if (!isSecretName(name)) return undefined;
    if (dir) {
      try {
        return readFileSync(path.join(dir, name), 'utf8').replace(/\r?\n$/, '');
      } catch {
        // fall through to the environment
      }
    }
    return env[secretEnvName(name)];
  };
}

/** Resolves secret references for a container's environment; names every missing secret. */
export function resolveEnvironment(environment: Record<string, EnvValue>, secrets: SecretSource, where: string): Record<string, string> {
  const resolved: Record<string, string> = {};
  const missing: string[] = [];
  for (const [key, value] of Object.entries(environment)) {
    if (typeof value === 'string') {
      resolved[key] = value;
      continue;
    }
    const secret = secrets(value.secret);
    if (secret === undefined) missing.push(value.secret);
    else resolved[key] = secret;
  }
  if (missing.length > 0) {
    const hints = missing.map((m) => `${m} (a file named ${m} in STAGECOACH_SECRETS_DIR, or ${secretEnvName(m)})`).join('; ');
    throw new DeployError(`${where}: secret${missing.length > 1 ? 's' : ''} not set on the daemon host: ${hints}`);
  }
  return resolved;
}
