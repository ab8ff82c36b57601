import path from 'node:path';
import { compileSafeRegex } from '../policy/regex.js';
import { parse as shellParse } from 'shell-quote';
import { parseDuration } from './duration.js';
import { specHash } from './hash.js';
import { canonicalImage, parseImageRef } from './image-ref.js';
import type { LongPort, PortBinding } from './ports.js';
import { compareBindings, parseLongPort, parseShortPort } from './ports.js';
import { describeValue } from './problem.js';
import { parseSize } from './size.js';
import type { ContainerSpec, DependencyCondition, EnvValue, EnvironmentManifest, Healthcheck, Mount, PullPolicy, ServiceManifest, UpdateOrder } from './types.js';

/** Reports a problem at a path inside the document being normalized. */
export type Report = (segments: (string | number)[], message: string, at?: 'key' | 'value') => void;

/** Raw service document, already checked against service.schema.json. */
export interface RawService {
  name: string;
  image: string;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, unknown> | string[];
  env_file?: string | string[];
  ports?: (string | number | LongPort)[];
  volumes?: (string | { type: 'volume' | 'bind'; source?: string; target: string; read_only?: boolean })[];
  healthcheck?: { test?: string | string[]; interval?: string; timeout?: string; retries?: number; start_period?: string; start_interval?: string; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: DependencyCondition }>;
  labels?: Record<string, string | number | boolean> | string[];
  restart?: string;
  deploy?: { replicas?: number; update_config?: { order?: UpdateOrder }; resources?: { limits?: { cpus?: number | string; memory?: number | string; pids?: number } } };
  pull_policy?: PullPolicy;
  stop_grace_period?: string;
  init?: boolean;
}

/** Compose defaults, spelled out so that writing a default changes nothing. */
export const serviceDefaults = {
  restart: 'unless-stopped',
  replicas: 1,
  updateOrder: 'start-first' as UpdateOrder,
  pullPolicy: 'missing' as PullPolicy,
  stopGraceMs: 10_000,
  dependencyCondition: 'service_healthy' as DependencyCondition,
  healthcheck: { intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0, startIntervalMs: 5_000 },
} as const;

export const defaultSecretNames = '(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|CREDENTIALS)';

export interface NormalizeContext {
  file: string;
  line: number;
  environment: EnvironmentManifest | undefined;
  /** Parsed env_file contents by repo-relative path (absent when unreadable; already reported). */
  envFiles: ReadonlyMap<string, Record<string, string>>;
  report: Report;
}

export function splitCommand(value: string | string[] | undefined, where: (string | number)[], report: Report): string[] | null {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value;
  const tokens = shellParse(value, (name) => `$${name}`);
  const words: string[] = [];
  for (const token of tokens) {
    if (typeof token === 'string') words.push(token);
    else if ('pattern' in token) words.push(token.pattern);
    else {
      report(where, `uses shell syntax (${'op' in token ? token.op : 'comment'}); write ["sh", "-c", "..."] to run a shell${` (got ${describeValue(value)})`}`);
      return null;
    }
  }
  return words;
}

/** env_file paths resolve against the manifest's folder and must stay inside the repo. */
export function resolveEnvFile(manifestFile: string, envFile: string): string | undefined {
  if (path.posix.isAbsolute(envFile)) return undefined;
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(manifestFile), envFile));
  return resolved.startsWith('../') || resolved === '..' ? undefined : resolved;
}

export function envFileList(raw: RawService): string[] {
  return raw.env_file === undefined ? [] : Array.isArray(raw.env_file) ? raw.env_file : [raw.env_file];
}

function normalizeEnvironment(raw: RawService, ctx: NormalizeContext): Record<string, EnvValue> {
  const env: Record<string, EnvValue> = {};
  // RE2: the pattern comes from the repo, so it must not be able to stall the daemon.
  const secretPattern = compileSafeRegex(ctx.environment?.policy.secretNames ?? defaultSecretNames, { ignoreCase: true });
  const requireSecret = (name: string, value: EnvValue, where: (string | number)[], source: string) => {
    if (typeof value === 'string' && value !== '' && secretPattern.ok && secretPattern.regex.test(name)) {
      ctx.report(where, `must be a secret reference ({ secret: NAME }), not a literal value${source} (got a literal of ${value.length} characters, not shown)`);
    }
  };
  envFileList(raw).forEach((envFile, i) => {
    const resolved = resolveEnvFile(ctx.file, envFile);
    const values = resolved === undefined ? undefined : ctx.envFiles.get(resolved);
    for (const [name, value] of Object.entries(values ?? {})) {
      requireSecret(name, value, raw.env_file === envFile ? ['env_file'] : ['env_file', i], ` in ${resolved}`);
      env[name] = value;
    }
  });
  if (Array.isArray(raw.environment)) {
    raw.environment.forEach((entry, i) => {
      const eq = entry.indexOf('=');
      const name = eq < 0 ? entry : entry.slice(0, eq);
      const value = eq < 0 ? '' : entry.slice(eq + 1);
      requireSecret(name, value, ['environment', i], '');
      env[name] = value;
    });
  } else if (raw.environment) {
    for (const [name, value] of Object.entries(raw.environment)) {
      const normalized: EnvValue =
        value !== null && typeof value === 'object' ? { secret: (value as { secret: string }).secret } : value === null ? '' : String(value);
      requireSecret(name, normalized, ['environment', name], '');
      env[name] = normalized;
    }
  }
  if (secretPattern.ok) secretPattern.regex.dispose(); // re2-wasm's heap is not garbage-collected
  return env;
}

function normalizePorts(raw: RawService, report: Report): PortBinding[] {
  const bindings: PortBinding[] = [];
  (raw.ports ?? []).forEach((port, i) => {
    const result = typeof port === 'object' ? parseLongPort(port) : parseShortPort(port);
    if (!result.ok) report(['ports', i], `is not a valid port mapping: ${result.reason} (got ${describeValue(port)})`);
    else bindings.push(...result.bindings);
  });
  return bindings.sort(compareBindings);
}

function isHostPath(source: string): boolean {
  return source.startsWith('/') || source.startsWith('.') || source.startsWith('~');
}

function normalizeVolumes(raw: RawService, ctx: NormalizeContext): Mount[] {
  const mounts: Mount[] = [];
  const allowed = ctx.environment?.policy.bindMounts ?? [];
  (raw.volumes ?? []).forEach((volume, i) => {
    let mount: Mount;
    if (typeof volume === 'string') {
      const parts = volume.split(':');
      if (parts.length === 1) mount = { type: 'volume', source: null, target: parts[0]!, readOnly: false };
      else if (parts.length <= 3 && (parts[2] === undefined || parts[2] === 'ro' || parts[2] === 'rw')) {
        mount = { type: isHostPath(parts[0]!) ? 'bind' : 'volume', source: parts[0]!, target: parts[1]!, readOnly: parts[2] === 'ro' };
      } else {
        ctx.report(['volumes', i], `is not a valid volume: expected SOURCE:TARGET[:ro|rw] or TARGET (got ${describeValue(volume)})`);
        return;
      }
    } else {
      mount = { type: volume.type, source: volume.source ?? null, target: volume.target, readOnly: volume.read_only ?? false };
    }
    if (!mount.target.startsWith('/')) {
      ctx.report(['volumes', i], `target must be an absolute path in the container (got ${describeValue(mount.target)})`);
      return;
    }
    if (mount.type === 'volume' && mount.source !== null && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(mount.source)) {
      ctx.report(['volumes', i], `volume name must be letters, digits, '_', '.', '-' (got ${describeValue(mount.source)})`);
      return;
    }
    if (mount.type === 'bind') {
      const source = mount.source ?? '';
      if (!source.startsWith('/')) {
        ctx.report(['volumes', i], `bind mount source must be an absolute host path (got ${describeValue(source)})`);
        return;
      }
      const normalized = path.posix.normalize(source);
      const permitted = allowed.some((prefix) => {
        const p = path.posix.normalize(prefix).replace(/\/$/, '');
        return normalized === p || normalized.startsWith(`${p}/`);
      });
      if (!permitted) {
        const policy = allowed.length ? `allowed: ${allowed.join(', ')}` : 'allowed: none';
        ctx.report(['volumes', i], `bind mount of host path ${normalized} is not allowed by this environment's policy.bindMounts (${policy})`);
        return;
      }
      mount = { ...mount, source: normalized };
    }
    mounts.push(mount);
  });
  return mounts.sort((a, b) => a.target.localeCompare(b.target));
}

function durationOr(value: string | undefined, fallback: number): number {
  return value === undefined ? fallback : (parseDuration(value) ?? fallback);
}

function normalizeHealthcheck(raw: RawService, report: Report): Healthcheck | null {
  const hc = raw.healthcheck;
  if (!hc) return null;
  const d = serviceDefaults.healthcheck;
  const timings = {
    intervalMs: durationOr(hc.interval, d.intervalMs),
    timeoutMs: durationOr(hc.timeout, d.timeoutMs),
    retries: hc.retries ?? d.retries,
    startPeriodMs: durationOr(hc.start_period, d.startPeriodMs),
    startIntervalMs: durationOr(hc.start_interval, d.startIntervalMs),
  };
  if (hc.disable) return { test: ['NONE'], ...timings };
  let test: string[] | null = null;
  if (typeof hc.test === 'string') test = ['CMD-SHELL', hc.test];
  else if (Array.isArray(hc.test)) {
    const [head] = hc.test;
    if (head !== 'CMD' && head !== 'CMD-SHELL' && head !== 'NONE') {
      report(['healthcheck', 'test', 0], `must start with "CMD", "CMD-SHELL" or "NONE" (got ${describeValue(head)})`);
    }
    test = hc.test;
  }
  return { test, ...timings };
}

function normalizeLabels(raw: RawService, report: Report): Record<string, string> {
  const labels: Record<string, string> = {};
  const entries: [string, string, (string | number)[]][] = Array.isArray(raw.labels)
    ? raw.labels.map((entry, i) => {
        const eq = entry.indexOf('=');
        return [eq < 0 ? entry : entry.slice(0, eq), eq < 0 ? '' : entry.slice(eq + 1), ['labels', i]];
      })
    : Object.entries(raw.labels ?? {}).map(([k, v]) => [k, String(v), ['labels', k]]);
  for (const [key, value, where] of entries) {
    if (key.startsWith('io.stagecoach.')) report(where, `uses the reserved prefix io.stagecoach. (got ${describeValue(key)})`, 'key');
    else labels[key] = value;
  }
  return labels;
}

function normalizeDependsOn(raw: RawService): Record<string, DependencyCondition> {
  const deps: Record<string, DependencyCondition> = {};
  if (Array.isArray(raw.depends_on)) {
    for (const name of raw.depends_on) deps[name] = serviceDefaults.dependencyCondition;
  } else {
    for (const [name, value] of Object.entries(raw.depends_on ?? {})) deps[name] = value.condition ?? serviceDefaults.dependencyCondition;
  }
  return deps;
}

function normalizeResources(raw: RawService, report: Report): ContainerSpec['resources'] {
  const limits = raw.deploy?.resources?.limits ?? {};
  const cpus = limits.cpus === undefined ? null : Number(limits.cpus);
  const memory = limits.memory === undefined ? null : (parseSize(limits.memory) ?? null);
  if (limits.memory !== undefined && memory !== null && memory < 4 * 1024 * 1024) {
    report(['deploy', 'resources', 'limits', 'memory'], `must be at least 4m (got ${describeValue(limits.memory)})`);
  }
  return { nanoCpus: cpus === null ? null : Math.round(cpus * 1e9), memoryBytes: memory, pids: limits.pids ?? null };
}

/** Raw service document → the normalized manifest with its spec hash. Problems go to ctx.report. */
export function imageProblem(image: string): string | undefined {
  const parsed = parseImageRef(image);
  return parsed.ok ? undefined : `is not a valid image reference: ${parsed.reason} (got ${describeValue(image)})`;
}

export function normalizeService(raw: RawService, ctx: NormalizeContext): ServiceManifest {
  const image = parseImageRef(raw.image);
  const problem = imageProblem(raw.image);
  if (problem) ctx.report(['image'], problem);
  const ports = normalizePorts(raw, ctx.report);
  const spec: ContainerSpec = {
    image: image.ok ? canonicalImage(image.ref) : raw.image,
    command: splitCommand(raw.command, ['command'], ctx.report),
    entrypoint: splitCommand(raw.entrypoint, ['entrypoint'], ctx.report),
    environment: normalizeEnvironment(raw, ctx),
    ports,
    volumes: normalizeVolumes(raw, ctx),
    healthcheck: normalizeHealthcheck(raw, ctx.report),
    labels: normalizeLabels(raw, ctx.report),
    restart: raw.restart ?? serviceDefaults.restart,
    resources: normalizeResources(raw, ctx.report),
    stopGraceMs: durationOr(raw.stop_grace_period, serviceDefaults.stopGraceMs),
    init: raw.init ?? false,
  };
  const fixedHostPort = ports.some((p) => p.published !== null);
  const asked = raw.deploy?.update_config?.order;
  const updateOrder: UpdateOrder = fixedHostPort ? 'stop-first' : (asked ?? serviceDefaults.updateOrder);
  return {
    name: raw.name,
    file: ctx.file,
    line: ctx.line,
    spec,
    specHash: specHash(spec),
    replicas: raw.deploy?.replicas ?? serviceDefaults.replicas,
    updateOrder,
    updateOrderForced: fixedHostPort && asked !== 'stop-first',
    dependsOn: normalizeDependsOn(raw),
    pullPolicy: raw.pull_policy ?? serviceDefaults.pullPolicy,
  };
}
