import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDuration } from '../manifest/duration.js';
import { parseYamlFile } from '../manifest/parse.js';
import type { ParsedDocument } from '../manifest/parse.js';
import type { Problem } from '../manifest/problem.js';
import { compareProblems, formatProblem } from '../manifest/problem.js';
import { schemaProblems } from '../manifest/schema-problems.js';
import type { SchemaValidators } from '../manifest/schemas.js';
import { UsageError } from '../errors.js';
import type { NotificationSettings } from '../notify/sinks.js';
import { loadNotifications } from './notifications.js';
import type { RawNotifications } from './notifications.js';
import type { OperatorPolicy } from '../policy/types.js';
import { readPolicyFile, toOperatorPolicy } from './policy.js';
import type { RawPolicy } from './policy.js';
import { trustSettings } from './trust.js';
import type { RawTrust, TrustSettings } from './trust.js';

/** The daemon's settings, merged and validated: one object, built once at start. */
export interface Settings {
  /** Config repo URL or local path; undefined = the bundled example. */
  repo: string | undefined;
  branch: string;
  /** Environments this daemon manages; undefined = all. */
  environments: string[] | undefined;
  intervalMs: number;
  /** The periodic drift check lists an environment at least this often; in between the engine's events may vouch for it (0: always list). */
  resyncMs: number;
  listen: { host: string; port: number };
  dataDir: string;
  logLevel: string;
  webhookSecret: string | undefined;
  apiToken: string | undefined;
  secretsDir: string | undefined;
  /** Where pipeline events are sent (settings file only); undefined when none are configured. */
  notifications: NotificationSettings | undefined;
  /** Image automation: how often each registry host is asked (settings file `registries`); others every poll interval. */
  registryIntervalsMs: Record<string, number>;
  /** What each environment may do, decided by the operator (never by the repo). */
  policy: OperatorPolicy;
  /** Commit signing and the keys the daemon trusts. */
  trust: TrustSettings;
}

/** Command-line flags of `stagecoach run`, as parsed. */
export interface RunFlags {
  repo?: string;
  branch?: string;
  env?: string;
  interval?: string;
  resync?: string;
  listen?: string;
  data?: string;
  config?: string;
  policy?: string;
}

interface RawSettings {
  repo?: string;
  branch?: string;
  environments?: string[];
  interval?: string;
  resync?: string;
  listen?: string;
  dataDir?: string;
  logLevel?: string;
  webhookSecret?: { file?: string; env?: string };
  apiToken?: { file?: string; env?: string };
  notifications?: RawNotifications;
  registries?: Record<string, { interval?: string }>;
  policy?: RawPolicy;
  signing?: RawTrust['signing'];
  trust?: RawTrust['trust'];
}

const envNames: Record<keyof Omit<RawSettings, 'webhookSecret' | 'apiToken' | 'notifications' | 'registries' | 'policy' | 'signing' | 'trust'>, string> = {
  repo: 'STAGECOACH_REPO',
  branch: 'STAGECOACH_BRANCH',
  environments: 'STAGECOACH_ENV',
  interval: 'STAGECOACH_INTERVAL',
  resync: 'STAGECOACH_RESYNC',
  listen: 'STAGECOACH_LISTEN',
  dataDir: 'STAGECOACH_DATA',
  logLevel: 'STAGECOACH_LOG_LEVEL',
};

const flagNames: Record<string, string> = { repo: '--repo', branch: '--branch', environments: '--env', interval: '--interval', resync: '--resync', listen: '--listen', dataDir: '--data' };

function list(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter(Boolean);
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Validates one source against settings.schema.json; problems are named after the source's own spelling. */
function check(raw: RawSettings, source: string, names: Record<string, string>, validators: SchemaValidators): Problem[] {
  if (validators.Settings(raw)) return [];
  return (validators.Settings.errors ?? []).map((e) => {
    const key = e.instancePath.split('/')[1] ?? '';
    const value = (raw as Record<string, unknown>)[key];
    return { file: source, path: names[key] ?? key, message: `${e.message} (got ${JSON.stringify(value)})` };
  });
}

function readSecret(name: string, env: NodeJS.ProcessEnv, ref: { file?: string; env?: string } | undefined, problems: Problem[]): string | undefined {
  const fromFile = (file: string, origin: string) => {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (error) {
      problems.push({ file: origin, message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` });
      return undefined;
    }
  };
  if (env[name] !== undefined) return env[name];
  if (env[`${name}_FILE`]) return fromFile(env[`${name}_FILE`]!, `${name}_FILE`);
  if (ref?.env) return env[ref.env];
  if (ref?.file) return fromFile(ref.file, 'settings file');
  return undefined;
}

/**
 * Merges the settings file, then STAGECOACH_* variables, then flags (flags
 * win), validating each source with the same schema and error quality as
 * manifests. Throws a UsageError listing every problem.
 */
export function loadSettings(flags: RunFlags, env: NodeJS.ProcessEnv, cwd: string, validators: SchemaValidators): Settings {
  const problems: Problem[] = [];
  let fileRaw: RawSettings = {};
  let fileDoc: ParsedDocument | undefined;
  const configFile = flags.config ?? env.STAGECOACH_CONFIG;
  if (configFile) {
    const full = path.resolve(cwd, configFile);
    let text = '';
    try {
      text = readFileSync(full, 'utf8');
    } catch (error) {
      throw new UsageError(`settings file ${full} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const parsed = parseYamlFile(configFile, text);
    problems.push(...parsed.problems);
    const doc = parsed.documents[0];
    if (doc) {
      if (!validators.Settings(doc.value)) problems.push(...schemaProblems(validators.Settings.errors ?? [], doc).sort(compareProblems));
      else {
        fileRaw = doc.value as RawSettings;
        fileDoc = doc;
      }
    }
  }
  const envRaw: RawSettings = defined({
    repo: env.STAGECOACH_REPO,
    branch: env.STAGECOACH_BRANCH,
    environments: list(env.STAGECOACH_ENV),
    interval: env.STAGECOACH_INTERVAL,
    resync: env.STAGECOACH_RESYNC,
    listen: env.STAGECOACH_LISTEN,
    dataDir: env.STAGECOACH_DATA,
    logLevel: env.STAGECOACH_LOG_LEVEL,
  });
  const flagRaw: RawSettings = defined({ repo: flags.repo, branch: flags.branch, environments: list(flags.env), interval: flags.interval, resync: flags.resync, listen: flags.listen, dataDir: flags.data });
  problems.push(...check(envRaw, 'environment', envNames, validators), ...check(flagRaw, 'command line', flagNames, validators));
  const merged: RawSettings = { ...fileRaw, ...envRaw, ...flagRaw };
  const webhookSecret = readSecret('STAGECOACH_WEBHOOK_SECRET', env, fileRaw.webhookSecret, problems);
  const apiToken = readSecret('STAGECOACH_API_TOKEN', env, fileRaw.apiToken, problems);
  const notifications = loadNotifications(fileRaw.notifications, fileDoc, env, path.dirname(path.resolve(cwd, configFile ?? '.')), problems);
  const policyFile = flags.policy ?? env.STAGECOACH_POLICY;
  const rawPolicy = policyFile ? readPolicyFile(policyFile, cwd, validators, problems) : fileRaw.policy;
  const policySource = policyFile ? `policy file ${path.resolve(cwd, policyFile)}` : fileRaw.policy ? 'settings file' : 'built-in defaults';
  const trust = trustSettings({ signing: fileRaw.signing, trust: fileRaw.trust }, env, cwd, problems);
  if (problems.length > 0) throw new UsageError(`invalid settings:\n${problems.map(formatProblem).join('\n')}`);
  const [host, port] = splitListen(merged.listen ?? '127.0.0.1:7420');
  const repo = merged.repo && !/^[a-z][a-z0-9+.-]*:\/\//i.test(merged.repo) && !/^[^/]+@[^:]+:/.test(merged.repo) ? path.resolve(cwd, merged.repo) : merged.repo;
  return {
    repo,
    branch: merged.branch ?? 'main',
    environments: merged.environments,
    intervalMs: parseDuration(merged.interval ?? '30s') ?? 30_000,
    resyncMs: parseDuration(merged.resync ?? '5m') ?? 300_000,
    listen: { host, port },
    dataDir: path.resolve(cwd, merged.dataDir ?? '.stagecoach'),
    logLevel: merged.logLevel ?? 'info',
    webhookSecret,
    apiToken,
    secretsDir: env.STAGECOACH_SECRETS_DIR,
    notifications,
    registryIntervalsMs: Object.fromEntries(Object.entries(fileRaw.registries ?? {}).flatMap(([host, r]) => (r.interval ? [[host, parseDuration(r.interval) ?? 0]] : []))),
    policy: toOperatorPolicy(rawPolicy, policySource),
    trust,
  };
}

function splitListen(listen: string): [string, number] {
  const at = listen.lastIndexOf(':');
  return [listen.slice(0, at).replace(/^\[|\]$/g, ''), Number(listen.slice(at + 1))];
}
