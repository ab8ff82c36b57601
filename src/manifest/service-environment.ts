import { regexProblem, testSafeRegex } from '../policy/regex.js';
import { secretMarker } from './interpolate-document.js';
import type { VariableScope } from './interpolate.js';
import type { Report } from './normalize-service.js';
import { defaultSecretNames, envFileList, resolveEnvFile } from './normalize-service.js';
import type { RawService } from './normalize-service.js';
import type { EnvValue, EnvironmentManifest } from './types.js';

export interface EnvironmentContext {
  file: string;
  environment: EnvironmentManifest | undefined;
  envFiles: ReadonlyMap<string, Record<string, string>>;
  variables?: VariableScope;
  report: Report;
}

/**
 * The service's variables: env_file first, then `environment` (which wins).
 * A variable with no value takes it from the environment's .env (compose takes
 * it from the shell); a secret-looking one becomes a secret reference; an unset one is an error.
 */
export function normalizeServiceEnvironment(raw: RawService, ctx: EnvironmentContext): Record<string, EnvValue> {
  const env: Record<string, EnvValue> = {};
  // RE2: the pattern comes from the repo, so it must not be able to stall the daemon.
  const pattern = ctx.environment?.policy.secretNames ?? defaultSecretNames;
  const valid = regexProblem(pattern, { ignoreCase: true }) === undefined; // an invalid one is reported by the environment's load
  const secretPattern = { test: (name: string) => valid && testSafeRegex(pattern, { ignoreCase: true }, name) };
  const requireSecret = (name: string, value: EnvValue, where: (string | number)[], source: string) => {
    // DB_PASSWORD_FILE=/run/secrets/db_password names where a secret file is, not the secret.
    const pathToSecretFile = /_FILE$/i.test(name) && typeof value === 'string' && value.startsWith('/');
    if (typeof value === 'string' && value !== '' && secretPattern.test(name) && !pathToSecretFile) {
      ctx.report(where, `must be a secret reference ({ secret: NAME }), not a literal value${source} (got a literal of ${value.length} characters, not shown)`);
    }
  };
  const fromScope = (name: string, where: (string | number)[]): EnvValue | undefined => {
    if (secretPattern.test(name)) return { secret: name };
    const value = ctx.variables?.lookup(name);
    if (value === undefined) ctx.report(where, `${name} has no value and is not set in the environment's .env (compose would take it from the shell; stagecoach takes desired state from git only)`);
    return value;
  };
  const files = envFileList(raw);
  files.forEach(({ path: envFile }, i) => {
    const resolved = resolveEnvFile(ctx.file, envFile);
    const values = resolved === undefined ? undefined : ctx.envFiles.get(resolved);
    for (const [name, value] of Object.entries(values ?? {})) {
      requireSecret(name, value, typeof raw.env_file === 'string' ? ['env_file'] : ['env_file', i], ` in ${resolved}`);
      env[name] = value;
    }
  });
  if (Array.isArray(raw.environment)) {
    raw.environment.forEach((entry, i) => {
      const eq = entry.indexOf('=');
      const name = eq < 0 ? entry : entry.slice(0, eq);
      const where = ['environment', i];
      if (eq < 0) {
        const value = fromScope(name, where);
        if (value !== undefined) env[name] = value;
        return;
      }
      const value = entry.slice(eq + 1);
      if (value.startsWith(secretMarker)) {
        env[name] = { secret: value.slice(secretMarker.length) };
        return;
      }
      requireSecret(name, value, where, '');
      env[name] = value;
    });
  } else if (raw.environment) {
    for (const [name, value] of Object.entries(raw.environment)) {
      const where = ['environment', name];
      if (value === null) {
        const found = fromScope(name, where);
        if (found !== undefined) env[name] = found;
        continue;
      }
      const normalized: EnvValue = typeof value === 'object' ? { secret: (value as { secret: string }).secret } : String(value);
      requireSecret(name, normalized, where, '');
      env[name] = normalized;
    }
  }
  return env;
}
