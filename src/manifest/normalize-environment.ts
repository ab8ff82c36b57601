import { regexProblem } from '../policy/regex.js';
import { isSecretName, secretNameHint } from '../policy/secret-name.js';
import { describeValue } from './problem.js';
import { parseDuration } from './duration.js';
import { defaultSecretNames, splitCommand } from './normalize-service.js';
import type { Report } from './normalize-service.js';
import { normalizeNetworks } from './environment-networks.js';
import type { RawNetwork } from './environment-networks.js';
import type { EnvValue, EnvironmentManifest, PromotionMode, TargetMode, TestSpec } from './types.js';

interface RawTest {
  name: string;
  retries?: number;
  delay?: string;
  timeout?: string;
  http?: { method?: string; url: string; headers?: Record<string, string>; body?: string; expect?: { status?: number; body?: string; bodyRegex?: string; json?: Record<string, unknown> } };
  container?: { image: string; command?: string | string[]; environment?: Record<string, string | number | boolean | { secret: string }> };
  exec?: { service: string; command: string | string[] };
}

/** Raw Environment document, already checked against environment.schema.json. */
export interface RawEnvironment {
  name: string;
  target?: { docker?: string; tls?: { ca: string; cert: string; key: string }; mode?: TargetMode };
  sync?: { auto?: boolean; prune?: boolean; selfHeal?: boolean; schedule?: string; parallelism?: number };
  policy?: { bindMounts?: string[]; secretNames?: string };
  tests?: RawTest[];
  verify?: { schedule?: string };
  promotion?: { from?: string; auto?: PromotionMode | false };
  profiles?: string[];
  volumes?: Record<string, { external?: boolean; name?: string } | null>;
  networks?: Record<string, RawNetwork | null>;
  secrets?: Record<string, RawSecret>;
}

interface RawSecret {
  external?: boolean;
  name?: string;
  environment?: string;
  file?: string;
}

/**
 * compose top-level secrets → the daemon host's secret each one is read from. Values never come
 * from git: a `file:` in the repo is refused with the reason, as is a definition that names no source.
 */
function normalizeSecretSources(raw: Record<string, RawSecret> | undefined, report: Report): Record<string, { hostName: string }> | undefined {
  if (!raw) return undefined;
  const out: Record<string, { hostName: string }> = {};
  for (const [key, def] of Object.entries(raw)) {
    const where = ['secrets', key];
    if (def.file !== undefined) {
      report([...where, 'file'], `is refused: secrets never live in git, where everyone who can read the config repo reads them (got ${describeValue(def.file)}); provide ${key} on the daemon host (a file ${key} in STAGECOACH_SECRETS_DIR, or STAGECOACH_SECRET_<NAME>) and write external: true`, 'key');
      continue;
    }
    const sources = [def.external === true ? 'external' : undefined, def.environment === undefined ? undefined : 'environment'].filter(Boolean);
    if (sources.length !== 1) {
      report(where, sources.length ? 'takes external: true or environment: VAR, not both' : `must say where its value comes from on the daemon host: external: true (the secret ${key}, or name:) or environment: VAR`);
      continue;
    }
    if (def.name !== undefined && def.external !== true) {
      report([...where, 'name'], `applies with external: true only (got ${describeValue(def.name)})`);
      continue;
    }
    const hostName = def.environment ?? def.name ?? key;
    if (!isSecretName(hostName)) {
      report([...where, def.environment !== undefined ? 'environment' : 'name'], `${secretNameHint} (got ${describeValue(hostName)})`);
      continue;
    }
    out[key] = { hostName };
  }
  return out;
}

export const environmentDefaults = {
  /**
   * parallelism: a step's services roll out together; 20 lets the bench's
   * 20-service step go in one wave (bench/README.md: holding starts back to 2
   * or 4 at a time made a replace of 20 slower, 10.2 s against 7.5 s), and at
   * 200 services 20 at a time created them in 0.73× compose's time.
   */
  sync: { auto: true, prune: true, selfHeal: true, parallelism: 20 },
  test: { retries: 0, delayMs: 1000, timeoutMs: 10_000, containerTimeoutMs: 300_000 },
  promotionAuto: 'branch' as PromotionMode,
} as const;

function envValues(raw: Record<string, string | number | boolean | { secret: string }> | undefined): Record<string, EnvValue> {
  return Object.fromEntries(Object.entries(raw ?? {}).map(([k, v]) => [k, typeof v === 'object' ? { secret: v.secret } : String(v)]));
}

function normalizeTest(raw: RawTest, index: number, report: Report): TestSpec {
  const where = ['tests', index];
  const isContainer = raw.container !== undefined;
  const test: TestSpec = {
    name: raw.name,
    retries: raw.retries ?? environmentDefaults.test.retries,
    delayMs: raw.delay === undefined ? environmentDefaults.test.delayMs : (parseDuration(raw.delay) ?? 0),
    timeoutMs:
      raw.timeout === undefined
        ? isContainer
          ? environmentDefaults.test.containerTimeoutMs
          : environmentDefaults.test.timeoutMs
        : (parseDuration(raw.timeout) ?? 0),
  };
  if (raw.http) {
    const expect = raw.http.expect ?? {};
    const bad = expect.bodyRegex === undefined ? undefined : regexProblem(expect.bodyRegex);
    if (bad) report([...where, 'http', 'expect', 'bodyRegex'], bad);
    test.http = {
      method: raw.http.method ?? 'GET',
      url: raw.http.url,
      headers: raw.http.headers ?? {},
      body: raw.http.body ?? null,
      expect: { status: expect.status ?? 200, body: expect.body ?? null, bodyRegex: expect.bodyRegex ?? null, json: expect.json ?? {} },
    };
  }
  if (raw.container) {
    test.container = {
      image: raw.container.image,
      command: splitCommand(raw.container.command, [...where, 'container', 'command'], report),
      environment: envValues(raw.container.environment),
    };
  }
  if (raw.exec) {
    test.exec = { service: raw.exec.service, command: splitCommand(raw.exec.command, [...where, 'exec', 'command'], report) ?? [] };
  }
  return test;
}

export function normalizeEnvironment(raw: RawEnvironment, file: string, report: Report): EnvironmentManifest {
  const secretNames = raw.policy?.secretNames ?? defaultSecretNames;
  const bad = regexProblem(secretNames, { ignoreCase: true });
  if (bad) report(['policy', 'secretNames'], bad);
  const auto = raw.promotion?.auto;
  if (raw.target?.mode === 'swarm' && raw.sync?.parallelism !== undefined) {
    report(['sync', 'parallelism'], `applies to engine targets only (got ${raw.sync.parallelism}): Swarm services are updated one at a time here, each by its deploy.update_config.parallelism`);
  }
  return {
    name: raw.name,
    file,
    target: { docker: raw.target?.docker ?? null, tls: raw.target?.tls ?? null, mode: raw.target?.mode ?? 'engine' },
    sync: { ...environmentDefaults.sync, ...raw.sync, schedule: raw.sync?.schedule ?? null },
    policy: { bindMounts: raw.policy?.bindMounts ?? [], secretNames },
    tests: (raw.tests ?? []).map((t, i) => normalizeTest(t, i, report)),
    verify: { schedule: raw.verify?.schedule ?? null },
    promotion: { from: raw.promotion?.from ?? null, auto: auto === false ? 'off' : (auto ?? environmentDefaults.promotionAuto) },
    ...(raw.profiles ? { profiles: [...raw.profiles].sort() } : {}),
    ...(raw.volumes
      ? { volumes: Object.fromEntries(Object.entries(raw.volumes).map(([name, v]) => [name, { external: v?.external ?? false, name: v?.name ?? name }])) }
      : {}),
    ...(raw.networks ? { networks: normalizeNetworks(raw.name, raw.networks) } : {}),
    ...(raw.secrets ? { secrets: normalizeSecretSources(raw.secrets, report)! } : {}),
  };
}
