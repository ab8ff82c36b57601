import path from 'node:path';
import { parse as shellParse } from 'shell-quote';
import { normalizeImagePolicy } from '../images/policy-field.js';
import type { RawImagePolicy } from '../images/policy-field.js';
import { parseDuration } from './duration.js';
import { specHash } from './hash.js';
import { canonicalImage, parseImageRef } from './image-ref.js';
import type { LongPort, PortBinding } from './ports.js';
import { compareBindings, parseLongPort, parseShortPort } from './ports.js';
import { describeValue } from './problem.js';
import { parseSize } from './size.js';
import type { VariableScope } from './interpolate.js';
import { refuseFields } from './refusals.js';
import { normalizeServiceEnvironment } from './service-environment.js';
import type { RawHostOptions } from './service-host.js';
import { normalizeHostOptions } from './service-host.js';
import type { RawOptions } from './service-options.js';
import { normalizeOptions } from './service-options.js';
import type { RawServiceNetworks } from './service-networks.js';
import { normalizeServiceNetworks } from './service-networks.js';
import type { RawSwarmDeploy } from './service-swarm.js';
import { normalizeSwarmDeploy } from './service-swarm.js';
import type { LongVolume } from './service-volumes.js';
import { normalizeVolumes } from './service-volumes.js';
import type { FilesContext, RawFileRef, RepoFileRead } from './service-files.js';
import { normalizeConfigs, normalizeSecrets, repoBind } from './service-files.js';
import type { ContainerSpec, FileMount, DependencyCondition, EnvironmentManifest, Healthcheck, EdgeMode, PullPolicy, ServiceManifest, UpdateOrder } from './types.js';
import { compareText } from '../text-order.js';

/** Reports a problem at a path inside the document being normalized. */
export type Report = (segments: (string | number)[], message: string, at?: 'key' | 'value') => void;

/** Raw service document, already checked against service.schema.json. */
export interface RawService extends RawOptions {
  name: string;
  image: string;
  build?: unknown;
  profiles?: string[];
  mem_limit?: number | string;
  cpus?: number | string;
  pids_limit?: number;
  networks?: RawServiceNetworks;
  configs?: RawFileRef[];
  secrets?: RawFileRef[];
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, unknown> | string[];
  env_file?: string | (string | { path: string; required?: boolean })[];
  ports?: (string | number | LongPort)[];
  volumes?: (string | LongVolume)[];
  healthcheck?: { test?: string | string[]; interval?: string; timeout?: string; retries?: number | string; start_period?: string; start_interval?: string; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: DependencyCondition; required?: boolean }>;
  labels?: Record<string, string | number | boolean | null> | string[];
  restart?: string;
  deploy?: RawSwarmDeploy & {
    resources?: { limits?: { cpus?: number | string; memory?: number | string; pids?: number }; reservations?: { cpus?: number | string; memory?: number | string } };
    restart_policy?: { condition?: 'none' | 'on-failure' | 'any'; max_attempts?: number };
  };
  pull_policy?: PullPolicy | 'if_not_present' | 'build';
  scale?: number;
  container_name?: string;
  imagePolicy?: RawImagePolicy;
  stop_grace_period?: string;
  init?: boolean;
  edge?: EdgeMode;
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
  /** Repo files named by relative binds, read ahead (normalize is synchronous). */
  repoFiles?: ReadonlyMap<string, RepoFileRead>;
  /** The environment's interpolation variables (.env), for variables listed without a value. */
  variables?: VariableScope;
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

export function envFileList(raw: RawService): { path: string; required: boolean }[] {
  const items = raw.env_file === undefined ? [] : Array.isArray(raw.env_file) ? raw.env_file : [raw.env_file];
  return items.map((item) => (typeof item === 'string' ? { path: item, required: true } : { path: item.path, required: item.required ?? true }));
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
    retries: hc.retries === undefined ? d.retries : Number(hc.retries),
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
    : Object.entries(raw.labels ?? {}).map(([k, v]) => [k, v === null ? '' : String(v), ['labels', k]]);
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

/** depends_on entries with `required: false`: they never block this service (compose semantics). */
function optionalDependencies(raw: RawService): string[] {
  if (Array.isArray(raw.depends_on)) return [];
  return Object.entries(raw.depends_on ?? {})
    .filter(([, value]) => value.required === false)
    .map(([name]) => name)
    .sort();
}

function normalizeResources(raw: RawService, report: Report): ContainerSpec['resources'] {
  const limits = raw.deploy?.resources?.limits ?? {};
  const cpuText = limits.cpus ?? raw.cpus;
  const cpus = cpuText === undefined ? null : Number(cpuText);
  const memoryText = limits.memory ?? raw.mem_limit;
  const memoryWhere = limits.memory !== undefined ? ['deploy', 'resources', 'limits', 'memory'] : ['mem_limit'];
  const memory = memoryText === undefined ? null : (parseSize(memoryText) ?? null);
  if (memoryText !== undefined && memory === null) report(memoryWhere, `is not a size like 256m or 1GiB (got ${describeValue(memoryText)})`);
  if (memoryText !== undefined && memory !== null && memory < 4 * 1024 * 1024) {
    report(memoryWhere, `must be at least 4m (got ${describeValue(memoryText)})`);
  }
  const pids = limits.pids ?? (raw.pids_limit !== undefined && raw.pids_limit > 0 ? raw.pids_limit : null);
  return { nanoCpus: cpus === null ? null : Math.round(cpus * 1e9), memoryBytes: memory, pids };
}

/** restart wins; else deploy.restart_policy as compose maps it; else our default. */
function restartPolicy(raw: RawService): string {
  if (raw.restart !== undefined) return raw.restart;
  const policy = raw.deploy?.restart_policy;
  if (!policy) return serviceDefaults.restart;
  switch (policy.condition ?? 'any') {
    case 'none':
      return 'no';
    case 'on-failure':
      return policy.max_attempts ? `on-failure:${policy.max_attempts}` : 'on-failure';
    default:
      return 'always';
  }
}

/** Raw service document → the normalized manifest with its spec hash. Problems go to ctx.report. */
export function imageProblem(image: string): string | undefined {
  const parsed = parseImageRef(image);
  return parsed.ok ? undefined : `is not a valid image reference: ${parsed.reason} (got ${describeValue(image)})`;
}

export function normalizeService(raw: RawService, ctx: NormalizeContext): ServiceManifest {
  const filesCtx: FilesContext = { file: ctx.file, environment: ctx.environment, repoFiles: ctx.repoFiles ?? new Map(), report: ctx.report, contents: {} };
  const repoFiles: FileMount[] = [];
  const image = parseImageRef(raw.image);
  const problem = imageProblem(raw.image);
  if (problem) ctx.report(['image'], problem);
  const ports = normalizePorts(raw, ctx.report);
  const spec: ContainerSpec = {
    image: image.ok ? canonicalImage(image.ref) : raw.image,
    command: splitCommand(raw.command, ['command'], ctx.report),
    entrypoint: splitCommand(raw.entrypoint, ['entrypoint'], ctx.report),
    environment: normalizeServiceEnvironment(raw, ctx),
    ports,
    volumes: normalizeVolumes(raw.volumes, ctx.environment, ctx.report, (source, target, readOnly, where) => {
      const file = repoBind(source, target, readOnly, where, filesCtx);
      if (file) repoFiles.push(file);
    }),
    healthcheck: normalizeHealthcheck(raw, ctx.report),
    labels: normalizeLabels(raw, ctx.report),
    restart: restartPolicy(raw),
    resources: normalizeResources(raw, ctx.report),
    stopGraceMs: durationOr(raw.stop_grace_period, serviceDefaults.stopGraceMs),
    init: raw.init ?? false,
  };
  const options = normalizeOptions(raw, ctx.report);
  if (options) spec.options = options;
  const files = [...repoFiles, ...normalizeConfigs(raw.configs, filesCtx), ...normalizeSecrets(raw.secrets, filesCtx)].sort((a, b) => compareText(a.target, b.target));
  if (files.length) spec.files = files;
  const networks = normalizeServiceNetworks(raw.networks, ctx.environment, ctx.report);
  if (networks) spec.networks = networks;
  const swarm = normalizeSwarmDeploy(raw.deploy, ctx.environment, ctx.report);
  if (swarm) spec.swarm = swarm;
  refuseFields(raw as unknown as Record<string, unknown>, ctx.report);
  Object.assign(spec, normalizeHostOptions(raw as unknown as RawHostOptions, ctx.report));
  if (raw.container_name !== undefined) spec.containerName = raw.container_name;
  const fixedHostPort = ports.some((p) => p.published !== null);
  const fixedName = raw.container_name !== undefined;
  const asked = raw.deploy?.update_config?.order;
  const updateOrder: UpdateOrder = fixedHostPort || fixedName ? 'stop-first' : (asked ?? serviceDefaults.updateOrder);
  return {
    name: raw.name,
    file: ctx.file,
    line: ctx.line,
    spec,
    specHash: specHash(spec),
    replicas: raw.deploy?.replicas ?? raw.scale ?? serviceDefaults.replicas,
    updateOrder,
    updateOrderForced: (fixedHostPort || fixedName) && asked !== 'stop-first',
    ...((fixedHostPort || fixedName) && asked !== 'stop-first' ? { updateOrderReason: fixedHostPort ? 'stop-first: a fixed host port is published' : 'stop-first: container_name gives one live container the name' } : {}),
    dependsOn: normalizeDependsOn(raw),
    optionalDependencies: optionalDependencies(raw),
    pullPolicy: raw.pull_policy === undefined || raw.pull_policy === 'if_not_present' || raw.pull_policy === 'build' ? serviceDefaults.pullPolicy : raw.pull_policy,
    ...(files.length ? { fileContents: filesCtx.contents } : {}),
    ...(raw.build === undefined ? {} : { notes: [`has build: stagecoach does not build images; it pulls ${spec.image} (build and push it in CI)`] }),
    ...(raw.profiles?.length ? { profiles: [...raw.profiles].sort() } : {}),
    edge: raw.edge ?? 'tcp',
    imagePolicy: normalizeImagePolicy(raw.imagePolicy, ctx.report),
  };
}
