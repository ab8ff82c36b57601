import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { EnvValue } from '../manifest/types.js';
import { DeployError } from '../errors.js';
import { isSecretName } from '../policy/secret-name.js';

/**
 * Looks a secret up on the daemon host, as text for an environment variable;
 * undefined when it is not set. `bytes`, where the source has it, gives the
 * value exactly as stored, for compose secrets (files in the container); a
 * source without it serves files its text, encoded as UTF-8.
 */
export interface SecretSource {
  (name: string): string | undefined;
  bytes?: (name: string) => Buffer | undefined;
}

export function secretEnvName(name: string): string {
  return `STAGECOACH_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * Secrets from files in `dir` (one file per secret), else from
 * STAGECOACH_SECRET_<NAME>. As text (an environment variable's value) a
 * file's trailing newline is dropped; as bytes (a compose secret, which is a
 * file in the container) it is kept, and nothing is decoded: a keystore or a
 * DER key arrives as it was. A name outside the secret-name grammar (a path,
 * `..`) is never looked up: nothing outside `dir` can be read.
 */
export function hostSecrets(dir: string | undefined, env: NodeJS.ProcessEnv): SecretSource {
  const file = (name: string): Buffer | undefined => {
    if (!dir) return undefined;
    try {
      return readFileSync(path.join(dir, name));
    } catch {
      return undefined; // not there: the environment is asked next
    }
  };
  const text = (name: string): string | undefined => {
    if (!isSecretName(name)) return undefined;
    return file(name)?.toString('utf8').replace(/\r?\n$/, '') ?? env[secretEnvName(name)];
  };
  const bytes = (name: string): Buffer | undefined => {
    if (!isSecretName(name)) return undefined;
    const value = env[secretEnvName(name)];
    return file(name) ?? (value === undefined ? undefined : Buffer.from(value, 'utf8'));
  };
  return Object.assign(text, { bytes });
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
  if (missing.length > 0) throw notSet(missing, where);
  return resolved;
}

function notSet(missing: readonly string[], where: string): DeployError {
  const hints = missing.map((m) => `${m} (a file named ${m} in STAGECOACH_SECRETS_DIR, or ${secretEnvName(m)})`).join('; ');
  return new DeployError(`${where}: secret${missing.length > 1 ? 's' : ''} not set on the daemon host: ${hints}`);
}

/**
 * The content of each secret file (by its path in the container) exactly as
 * stored on the daemon host: compose secrets are files, so no newline is
 * dropped and nothing is decoded. Names every missing secret.
 */
export function resolveSecretFiles(wanted: Readonly<Record<string, string>>, secrets: SecretSource, where: string): Record<string, Buffer> {
  const resolved: Record<string, Buffer> = {};
  const missing: string[] = [];
  for (const [target, name] of Object.entries(wanted)) {
    const value = secrets.bytes ? secrets.bytes(name) : encoded(secrets(name));
    if (value === undefined) missing.push(name);
    else resolved[target] = value;
  }
  if (missing.length > 0) throw notSet([...new Set(missing)], where);
  return resolved;
}

const encoded = (text: string | undefined) => (text === undefined ? undefined : Buffer.from(text, 'utf8'));
