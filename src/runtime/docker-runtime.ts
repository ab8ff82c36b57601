import type Docker from 'dockerode';
import { DockerError } from '../errors.js';
import { directReadsOf, dockerConfigPath } from './connect.js';
import { createBody } from './create-body.js';
import { tarFiles } from './tar.js';
import { loadImage, saveImage } from './image-archive.js';
import { demultiplex, toDetails, toSummary } from './docker-mapping.js';
import { withStartInterval } from './engine-version.js';
import { engineMessage, errorText, isConnectionError, shortId, statusOf } from './docker-errors.js';
import type { CredentialHelper } from '../registry/credentials.js';
import { explainPull, registryAuthFor } from './registry-auth.js';
import { driftEvents } from './types.js';
import { engineReads, type EngineReads } from './engine-reads.js';
import { followContainerEvents } from './event-stream.js';
import type { ContainerEvent, ContainerDetails, ContainerRuntime, ContainerSummary, CreateContainer, ImageInfo, NetworkOptions, RegistryAuth, WatchOptions } from './types.js';
import { compareText } from '../text-order.js';

export { dockerClientFor, dockerConfigPath } from './connect.js';
export type { TlsFiles } from './connect.js';
export { demultiplex } from './docker-mapping.js';

export class DockerRuntime implements ContainerRuntime {
  constructor(
    private readonly docker: Docker,
    readonly host: string,
    /** The daemon host's Docker config (dockerConfigPath of the environment the composition root was given). */
    private readonly configPath: string,
    /** Runs `docker-credential-*` helpers for pulls; the composition root passes one with the daemon's environment. */
    private readonly credentialHelper?: CredentialHelper,
  ) {}

  private version: Promise<string> | undefined;
  private engineReads: EngineReads | undefined;
  /** List and inspect without dockerode: directly over HTTP for a client from dockerClientFor, else over the client's modem. */
  private get reads(): EngineReads {
    return (this.engineReads ??= directReadsOf(this.docker) ?? engineReads(this.docker.modem));
  }

  async ping(): Promise<void> {
    await this.call('reach the engine', () => this.docker.ping());
  }

  apiVersion(): Promise<string> {
    this.version ??= this.call('read the engine version', async () => (await this.reads.version()).ApiVersion).catch((error: unknown) => {
      this.version = undefined; // ask again next time
      throw error;
    });
    return this.version;
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const label = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
    const list = await this.call('list containers', () => this.reads.listContainers({ all: true, filters: { label } }));
    return list.map(toSummary);
  }

  async inspectContainer(id: string): Promise<ContainerDetails | undefined> {
    const info = await this.maybe(`inspect container ${shortId(id)}`, () => this.reads.inspectContainer(id));
    return info && toDetails(info);
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    const info = await this.maybe(`inspect image ${ref}`, () => this.reads.inspectImage(ref));
    return info && { id: info.Id, repoDigests: info.RepoDigests ?? [] };
  }

  async pullImage(ref: string, auth?: RegistryAuth, platform?: string): Promise<void> {
    const authconfig = auth ?? (await registryAuthFor(ref, this.configPath, this.host, this.credentialHelper));
    try {
      const stream = await this.docker.pull(ref, { ...(authconfig ? { authconfig } : {}), ...(platform ? { platform } : {}) });
      const items = await new Promise<ProgressItem[]>((resolve, reject) =>
        this.docker.modem.followProgress(stream, (err: Error | null, out: ProgressItem[]) => (err ? reject(err) : resolve(out))),
      );
      const failed = items.find((item) => item.error !== undefined || item.errorDetail !== undefined);
      if (failed) throw new Error(failed.error ?? failed.errorDetail?.message ?? 'pull failed');
    } catch (err) {
      throw this.error(`pull image ${ref}`, err, explainPull(engineMessage(err)));
    }
  }

  async buildImage(dir: string, files: string[], tag: string): Promise<void> {
    try {
      // The classic builder (version 1): dockerd 20.10 here has no buildx.
      const stream = await this.docker.buildImage({ context: dir, src: files }, { t: tag, version: '1', rm: true, forcerm: true });
      const items = await new Promise<ProgressItem[]>((resolve, reject) =>
        this.docker.modem.followProgress(stream, (err: Error | null, out: ProgressItem[]) => (err ? reject(err) : resolve(out))),
      );
      // dockerode reports success even when the build failed: the error is an item of the stream.
      const failed = items.find((item) => item.error !== undefined || item.errorDetail !== undefined);
      if (failed) throw new Error(failed.error ?? failed.errorDetail?.message ?? 'build failed');
    } catch (err) {
      throw this.error(`build image ${tag}`, err);
    }
  }

  saveImage(ref: string): Promise<NodeJS.ReadableStream> { return saveImage(this.docker, this.host, ref); }
  loadImage(archive: NodeJS.ReadableStream, what: string): Promise<void> { return loadImage(this.docker, this.host, archive, what); }

  async createContainer(spec: CreateContainer): Promise<string> {
    // _query/_body: dockerode would otherwise copy the whole body (env, secrets included) into the URL.
    const platform = spec.options?.platform;
    const body = spec.healthcheck?.startIntervalMs ? withStartInterval(createBody(spec), spec.healthcheck, await this.apiVersion()) : createBody(spec);
    const options = { _query: { name: spec.name, ...(platform ? { platform } : {}) }, _body: body } as unknown as Docker.ContainerCreateOptions;
    const container = await this.call(`create container ${spec.name} from ${spec.image}`, () => this.docker.createContainer(options));
    try {
      for (const net of spec.extraNetworks ?? []) {
        const EndpointConfig = { Aliases: net.aliases, ...(net.ipv4Address ? { IPAMConfig: { IPv4Address: net.ipv4Address } } : {}) };
        await this.call(`connect container ${spec.name} to network ${net.name}`, () => this.docker.getNetwork(net.name).connect({ Container: container.id, EndpointConfig }));
      }
      if (spec.files?.length) {
        // Copied in through the API, so a remote engine gets them too; the archive holds secret values: never logged.
        const archive = tarFiles(spec.files);
        await this.call(`copy ${spec.files.length} file(s) into container ${spec.name}`, () => container.putArchive(archive, { path: '/' }));
      }
    } catch (error) {
      await container.remove({ force: true }).catch(() => undefined); // never leave a half-connected container behind
      throw error;
    }
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
  async ensureNetwork(name: string, labels: Record<string, string>, options: NetworkOptions = {}): Promise<void> {
    let found = await this.networksNamed(name);
    if (found.length === 0) {
      const ipam = options.subnets?.length ? { IPAM: { Driver: 'default', Config: options.subnets.map((s) => ({ Subnet: s.subnet, ...(s.gateway ? { Gateway: s.gateway } : {}), ...(s.ipRange ? { IPRange: s.ipRange } : {}) })) } } : {};
      const body = { Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: labels, Internal: options.internal ?? false, Options: options.driverOpts ?? {}, ...ipam };
      await this.maybe(`create network ${name}`, () => this.docker.createNetwork(body), [409]);
      found = await this.networksNamed(name); // a concurrent creator may have made one too
    }
    const [, ...extra] = found.sort((a, b) => Date.parse(a.Created) - Date.parse(b.Created) || compareText(a.Id, b.Id));
    for (const net of extra) await this.maybe(`remove duplicate network ${name} (${shortId(net.Id)})`, () => this.docker.getNetwork(net.Id).remove());
  }

  async listNetworks(labels: Record<string, string>): Promise<string[]> {
    const label = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
    const nets = await this.call('list networks', () => this.docker.listNetworks({ filters: { label } }));
    return nets.map((n) => n.Name).sort();
  }

  async networkLabels(name: string): Promise<Record<string, string> | undefined> {
    return (await this.networksNamed(name)).map((net) => net.Labels ?? {})[0];
  }

  async removeNetwork(name: string): Promise<void> {
    await this.maybe(`remove network ${name}`, () => this.docker.getNetwork(name).remove());
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

  watchEvents(labels: Record<string, string>, onEvent: (event: ContainerEvent) => void, onEnd: (error?: Error) => void, options: WatchOptions = {}): { close(): void } {
    const type = options.type ?? 'container';
    const label = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
    const filters = { type: [type], ...(label.length ? { label } : {}), event: options.actions ?? [...driftEvents] };
    return followContainerEvents(() => this.docker.getEvents({ filters }), { onEvent, onEnd, onOpen: options.onOpen, error: (error) => this.error('follow events', error) });
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
