import Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DockerError } from '../errors.js';
import { parseImageRef } from '../manifest/image-ref.js';
import { containerStates } from './types.js';
import type {
  ContainerEvent,
  ContainerDetails, ContainerRuntime, ContainerState, ContainerSummary, CreateContainer, HealthState, ImageInfo, RegistryAuth,
} from './types.js';

export interface TlsFiles { ca: string; cert: string; key: string }

const LOCAL_SOCKET = 'unix:///var/run/docker.sock';
const NS_PER_MS = 1_000_000;
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/** A dockerode client for an environment's target, else DOCKER_HOST, else the local socket. */
export function dockerClientFor(endpoint: string | null, tls?: TlsFiles, env: NodeJS.ProcessEnv = process.env): { docker: Docker; host: string } {
  const target = endpoint ?? env.DOCKER_HOST ?? LOCAL_SOCKET;
  const certDir = endpoint === null ? env.DOCKER_CERT_PATH : undefined;
  const files = tls ?? (certDir ? { ca: join(certDir, 'ca.pem'), cert: join(certDir, 'cert.pem'), key: join(certDir, 'key.pem') } : undefined);
  return { docker: new Docker(clientOptions(target, files, env)), host: target.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1@') };
}

function clientOptions(target: string, tls: TlsFiles | undefined, env: NodeJS.ProcessEnv): Docker.DockerOptions {
  // Explicit undefineds: docker-modem otherwise fills these from process.env.DOCKER_HOST / DOCKER_CERT_PATH.
  const blank = { socketPath: undefined, host: undefined, port: undefined, protocol: undefined, ca: undefined, cert: undefined, key: undefined };
  if (target.startsWith('unix://')) return { ...blank, socketPath: target.slice('unix://'.length) || '/var/run/docker.sock' };
  let url: URL;
  try {
    url = new URL(target);
  } catch (cause) {
    throw new DockerError(`docker endpoint "${target}" is not a URL (expected unix:///path, tcp://host:port or ssh://user@host)`, { cause });
  }
  if (url.protocol === 'ssh:') {
    return { ...blank, protocol: 'ssh', host: url.hostname, port: url.port || 22, username: decodeURIComponent(url.username) || env.USER, sshOptions: { agent: env.SSH_AUTH_SOCK } };
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DockerError(`docker endpoint "${target}" has an unsupported scheme ${url.protocol} (use unix://, tcp:// or ssh://)`);
  }
  const secure = tls !== undefined || url.protocol === 'https:';
  const port = url.port || (secure ? 2376 : 2375);
  if (!tls) return { ...blank, host: url.hostname, port, protocol: secure ? 'https' : 'http' };
  return { ...blank, host: url.hostname, port, protocol: 'https', ca: readTls(tls.ca, target), cert: readTls(tls.cert, target), key: readTls(tls.key, target) };
}

function readTls(path: string, target: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new DockerError(`docker at ${target}: cannot read TLS file ${path}: ${errorText(cause)}`, { cause });
  }
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json');
}

export class DockerRuntime implements ContainerRuntime {
  constructor(private readonly docker: Docker, readonly host: string, private readonly configPath: string = dockerConfigPath()) {}

  async ping(): Promise<void> {
    await this.call('reach the engine', () => this.docker.ping());
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const label = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
    const list = await this.call('list containers', () => this.docker.listContainers({ all: true, filters: { label } }));
    return list.map(toSummary);
  }

  async inspectContainer(id: string): Promise<ContainerDetails | undefined> {
    const info = await this.maybe(`inspect container ${shortId(id)}`, () => this.docker.getContainer(id).inspect());
    return info && toDetails(info);
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    const info = await this.maybe(`inspect image ${ref}`, () => this.docker.getImage(ref).inspect());
    return info && { id: info.Id, repoDigests: info.RepoDigests ?? [] };
  }

  async pullImage(ref: string, auth?: RegistryAuth): Promise<void> {
    const authconfig = auth ?? (await registryAuthFor(ref, this.configPath, this.host));
    try {
      const stream = await this.docker.pull(ref, authconfig ? { authconfig } : {});
      const items = await new Promise<ProgressItem[]>((resolve, reject) =>
        this.docker.modem.followProgress(stream, (err: Error | null, out: ProgressItem[]) => (err ? reject(err) : resolve(out))),
      );
      const failed = items.find((item) => item.error !== undefined || item.errorDetail !== undefined);
      if (failed) throw new Error(failed.error ?? failed.errorDetail?.message ?? 'pull failed');
    } catch (err) {
      throw this.error(`pull image ${ref}`, err, explainPull(engineMessage(err)));
    }
  }

  async createContainer(spec: CreateContainer): Promise<string> {
    // _query/_body: dockerode would otherwise copy the whole body (env, secrets included) into the URL.
    const options = { _query: { name: spec.name }, _body: createBody(spec) } as unknown as Docker.ContainerCreateOptions;
    const container = await this.call(`create container ${spec.name} from ${spec.image}`, () => this.docker.createContainer(options));
    return container.id;
  }

  async startContainer(id: string): Promise<void> {
    await this.containerCall('start', id, () => this.docker.getContainer(id).start());
  }

  async stopContainer(id: string, graceMs: number): Promise<void> {
    const fine = (err: unknown): boolean => statusOf(err) === 304 || statusOf(err) === 404; // already stopped, or gone
    await this.containerCall('stop', id, () => this.docker.getContainer(id).stop({ t: Math.ceil(graceMs / 1000) }), { fine });
  }

  async removeContainer(id: string): Promise<void> {
    const fine = (err: unknown): boolean => statusOf(err) === 404 || (statusOf(err) === 409 && /already in progress/i.test(engineMessage(err)));
    await this.containerCall('remove', id, () => this.docker.getContainer(id).remove({ force: true, v: true }), { fine });
  }

  async renameContainer(id: string, name: string): Promise<void> {
    await this.containerCall('rename', id, () => this.docker.getContainer(id).rename({ name }), { suffix: ` to ${name}` });
  }

  /**
   * Docker allows two networks of one name, and CheckDuplicate does not stop
   * concurrent creators (20.10): after creating, every caller keeps the oldest
   * of that name and removes the others, so all of them converge on one.
   */
  async ensureNetwork(name: string, labels: Record<string, string>): Promise<void> {
    if ((await this.networksNamed(name)).length === 0) {
      await this.maybe(`create network ${name}`, () => this.docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: labels }), [409]);
    }
    const [, ...extra] = (await this.networksNamed(name)).sort((a, b) => Date.parse(a.Created) - Date.parse(b.Created) || a.Id.localeCompare(b.Id));
    for (const net of extra) await this.maybe(`remove duplicate network ${name} (${shortId(net.Id)})`, () => this.docker.getNetwork(net.Id).remove());
  }

  private async networksNamed(name: string): Promise<Docker.NetworkInspectInfo[]> {
    const nets = await this.call(`list networks named ${name}`, () => this.docker.listNetworks({ filters: { name: [name] } }));
    return nets.filter((n) => n.Name === name);
  }

  async ensureVolume(name: string, labels: Record<string, string>): Promise<void> {
    const found = await this.maybe(`inspect volume ${name}`, () => this.docker.getVolume(name).inspect());
    if (!found) await this.call(`create volume ${name}`, () => this.docker.createVolume({ Name: name, Labels: labels }));
  }

  async logsTail(id: string, lines: number): Promise<string> {
    const text = await this.containerCall('read logs of', id, async () => {
      const info = await this.docker.getContainer(id).inspect();
      const raw: unknown = await this.docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false, tail: lines });
      if (!Buffer.isBuffer(raw)) return typeof raw === 'string' ? raw : JSON.stringify(raw); // docker-modem parses JSON-looking output
      return info.Config.Tty ? raw.toString('utf8') : demultiplex(raw);
    });
    return text ?? '';
  }

  async waitForExit(id: string, timeoutMs: number): Promise<number | 'timeout'> {
    const container = this.docker.getContainer(id);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const result = await Promise.race([this.containerCall('wait for', id, () => container.wait() as Promise<{ StatusCode: number }>), timeout]);
      if (result === 'timeout') {
        await container.kill().catch(() => undefined);
        return 'timeout';
      }
      return result?.StatusCode ?? -1;
    } finally {
      clearTimeout(timer);
    }
  }

  async exec(id: string, command: string[], timeoutMs: number): Promise<{ exitCode: number | 'timeout'; output: string }> {
    const result = await this.containerCall('run a command in', id, async () => {
      const exec = await this.docker.getContainer(id).exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({ hijack: true, stdin: false });
      const chunks: Buffer[] = [];
      const ended = new Promise<void>((resolve, reject) => {
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', resolve);
        stream.on('error', reject);
      });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([ended.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)))]);
      clearTimeout(timer);
      if (timedOut) {
        stream.destroy();
        return { exitCode: 'timeout' as const, output: demultiplex(Buffer.concat(chunks)) };
      }
      const info = await exec.inspect();
      return { exitCode: info.ExitCode ?? -1, output: demultiplex(Buffer.concat(chunks)) };
    });
    return result ?? { exitCode: -1, output: '' };
  }

  watchEvents(labels: Record<string, string>, onEvent: (event: ContainerEvent) => void, onEnd: (error?: Error) => void): { close(): void } {
    let stream: (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    let closed = false;
    const filters = { type: ['container' as const], label: Object.entries(labels).map(([k, v]) => `${k}=${v}`), event: ['die', 'stop', 'destroy', 'pause', 'oom', 'health_status'] };
    this.docker.getEvents({ filters }).then(
      (s) => {
        stream = s as typeof stream;
        if (closed) return stream?.destroy?.();
        let buffered = '';
        s.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('utf8');
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines.filter(Boolean)) {
            try {
              const e = JSON.parse(line) as { Action: string; Actor: { Attributes: Record<string, string> } };
              const { name = '', ...rest } = e.Actor.Attributes;
              onEvent({ action: e.Action, container: name, labels: rest });
            } catch {
              // a partial or foreign line: ignore
            }
          }
        });
        s.on('end', () => !closed && onEnd());
        s.on('error', (error: Error) => !closed && onEnd(this.error('follow events', error)));
      },
      (error: unknown) => onEnd(this.error('follow events', error)),
    );
    return {
      close: () => {
        closed = true;
        stream?.destroy?.();
      },
    };
  }

  /** Runs one engine call, translating its failure. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.error(what, err);
    }
  }

  /** Like call(), but the statuses in `absent` (404: gone) resolve to undefined. */
  private async maybe<T>(what: string, fn: () => Promise<T>, absent: number[] = [404]): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      const status = statusOf(err);
      if (status !== undefined && absent.includes(status)) return undefined;
      throw this.error(what, err);
    }
  }

  /** Like call(), naming the container (`web (a1b2c3d4e5f6)`) when the engine still knows it. */
  private async containerCall<T>(verb: string, id: string, fn: () => Promise<T>, opts: { suffix?: string; fine?: (err: unknown) => boolean } = {}): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (opts.fine?.(err)) return undefined;
      const info = isConnectionError(err) ? undefined : await this.docker.getContainer(id).inspect().catch(() => undefined);
      const subject = info ? `${info.Name.replace(/^\//, '')} (${info.Id.slice(0, 12)})` : shortId(id);
      throw this.error(`${verb} container ${subject}${opts.suffix ?? ''}`, err);
    }
  }

  private error(what: string, err: unknown, explained?: { text: string; transient: boolean }): DockerError {
    if (isConnectionError(err)) {
      return new DockerError(`docker at ${this.host}: cannot ${what}: engine unreachable (${errorText(err)})`, { cause: err, transient: true });
    }
    const text = explained?.text ?? engineMessage(err);
    return new DockerError(`docker at ${this.host}: cannot ${what}: ${text}`, { cause: err, transient: explained?.transient ?? false });
  }
}

interface ProgressItem { status?: string; error?: string; errorDetail?: { message?: string } }

function createBody(spec: CreateContainer): Docker.ContainerCreateOptions {
  const ports = spec.ports.map((p) => ({ key: `${p.target}/${p.protocol}`, binding: { HostIp: p.hostIp, HostPort: p.published === null ? '' : String(p.published) } }));
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const { key, binding } of ports) (bindings[key] ??= []).push(binding);
  const [policy = 'no', retries] = spec.restart.split(':');
  return {
    Image: spec.image,
    ...(spec.command ? { Cmd: spec.command } : {}),
    ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: spec.labels,
    ExposedPorts: Object.fromEntries(ports.map(({ key }) => [key, {}])),
    ...(spec.healthcheck ? { Healthcheck: healthConfig(spec.healthcheck) } : {}),
    StopTimeout: Math.ceil(spec.stopGraceMs / 1000),
    HostConfig: {
      PortBindings: bindings,
      // An anonymous volume has no Source.
      Mounts: spec.mounts.map((m) => ({ Type: m.type, Target: m.target, ReadOnly: m.readOnly, ...(m.source === null ? {} : { Source: m.source }) }) as Docker.MountSettings),
      Init: spec.init,
      RestartPolicy: { Name: policy, MaximumRetryCount: retries === undefined ? 0 : Number(retries) },
      ...(spec.resources.memoryBytes === null ? {} : { Memory: spec.resources.memoryBytes }),
      ...(spec.resources.nanoCpus === null ? {} : { NanoCpus: spec.resources.nanoCpus }),
      ...(spec.resources.pids === null ? {} : { PidsLimit: spec.resources.pids }),
      NetworkMode: spec.network,
    },
    NetworkingConfig: { EndpointsConfig: { [spec.network]: { Aliases: spec.aliases } } },
  };
}

function healthConfig(hc: NonNullable<CreateContainer['healthcheck']>): Docker.HealthConfig {
  const timings = { Interval: hc.intervalMs * NS_PER_MS, Timeout: hc.timeoutMs * NS_PER_MS, Retries: hc.retries, StartPeriod: hc.startPeriodMs * NS_PER_MS };
  if (hc.test === null) return timings; // keep the image's test
  return hc.test[0] === 'NONE' ? { Test: ['NONE'] } : { Test: hc.test, ...timings };
}

function toState(state: string | undefined): ContainerState {
  const lower = (state ?? '').toLowerCase();
  return (containerStates as readonly string[]).includes(lower) ? (lower as ContainerState) : 'dead';
}

function healthFromStatus(status: string): HealthState {
  if (status.includes('(healthy)')) return 'healthy';
  if (status.includes('(unhealthy)')) return 'unhealthy';
  if (status.includes('(health: starting)')) return 'starting';
  return 'none';
}

function toSummary(c: Docker.ContainerInfo): ContainerSummary {
  // Beware: once its tag moves to another image, the list API gives the image id as `Image`.
  const name = (c.Names[0] ?? c.Id).replace(/^\//, '');
  return { id: c.Id, name, image: c.Image, imageId: c.ImageID, state: toState(c.State), health: healthFromStatus(c.Status), labels: c.Labels ?? {} };
}

function toDetails(info: Docker.ContainerInspectInfo): ContainerDetails {
  const state = toState(info.State.Status);
  const health = info.State.Health?.Status;
  const { RestartPolicy: policy, Memory, NanoCpus, PidsLimit } = info.HostConfig as Docker.HostConfig;
  const name = policy?.Name || 'no';
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    image: info.Config.Image,
    imageId: info.Image,
    state,
    health: health === 'starting' || health === 'healthy' || health === 'unhealthy' ? health : 'none',
    labels: info.Config.Labels ?? {},
    restartCount: info.RestartCount,
    exitCode: state === 'running' || state === 'created' || state === 'paused' ? null : info.State.ExitCode,
    startedAt: info.State.StartedAt && !info.State.StartedAt.startsWith('0001-') ? info.State.StartedAt : null,
    restartPolicy: name === 'on-failure' && policy?.MaximumRetryCount ? `on-failure:${policy.MaximumRetryCount}` : name,
    memoryBytes: Memory || null,
    nanoCpus: NanoCpus || null,
    pidsLimit: PidsLimit && PidsLimit > 0 ? PidsLimit : null,
  };
}

/** Splits the engine's 8-byte-header frames (stream, 0, 0, 0, size BE) back into text. */
export function demultiplex(raw: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length) {
    const size = raw.readUInt32BE(at + 4);
    parts.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

async function registryAuthFor(ref: string, configPath: string, host: string): Promise<RegistryAuth | undefined> {
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

function explainPull(message: string): { text: string; transient: boolean } {
  if (/not found|manifest unknown|does not exist|pull access denied|denied|unauthorized|authentication required|no basic auth credentials/i.test(message)) {
    return { text: `image not found in its registry, or access denied (check the name, tag and credentials): ${message}`, transient: false };
  }
  if (/dial tcp|connection refused|no such host|i\/o timeout|timeout|network is unreachable|EOF/i.test(message)) {
    return { text: `the registry is unreachable from the engine (no network, wrong host or port?): ${message}`, transient: true };
  }
  return { text: message, transient: false };
}

function statusOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

function isConnectionError(err: unknown): boolean {
  if (statusOf(err) !== undefined || !(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return (code !== undefined && CONNECTION_CODES.has(code)) || /socket hang up/i.test(err.message);
}

/** The engine's own words, without dockerode's "(HTTP code 404) no such container - " prefix. */
function engineMessage(err: unknown): string {
  const json = (err as { json?: unknown } | null)?.json;
  if (json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string') return (json as { message: string }).message;
  const text = errorText(err);
  return text.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim() || text.replace(/ - *$/, '').trim();
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}

function shortId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id;
}
