import { Readable } from 'node:stream';
import { DockerError } from '../../src/errors.js';
import { driftEvents } from '../../src/runtime/types.js';
import type { ContainerDetails, ContainerEvent, ContainerRuntime, ContainerSummary, CreateContainer, ImageInfo, WatchOptions } from '../../src/runtime/types.js';

interface FakeContainer extends ContainerDetails {
  create: CreateContainer;
}

/**
 * An in-memory ContainerRuntime: containers, images and a log of every write.
 * `behaviour` decides, per image, whether started containers become healthy.
 */
export class FakeRuntime implements ContainerRuntime {
  /** Another host name plays a second engine (its own images and containers). */
  constructor(readonly host = 'fake://engine') {}

  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Map<string, ImageInfo>();
  readonly writes: string[] = [];
  readonly networks = new Set<string>();
  readonly volumes = new Set<string>();
  /** Images whose containers turn unhealthy (or exit) after start. */
  readonly failing = new Map<string, 'unhealthy' | 'exit'>();
  /** Images whose containers run to completion on start, with this exit code (one-shot jobs). */
  readonly exits = new Map<string, number>();
  /** Images that cannot be pulled. */
  readonly unpullable = new Set<string>();
  /** The engine does not answer: every call fails with a transient DockerError. */
  down = false;
  /** The registry does not answer: pulls of absent images fail with a transient DockerError. */
  registryDown = false;
  private next = 1;

  addImage(ref: string, id = `sha256:${ref.replace(/[^a-z0-9]/g, '').padEnd(64, '0').slice(0, 64)}`): void {
    this.images.set(ref, { id, repoDigests: [] });
  }

  async ping(): Promise<void> {}

  /** The API version the fake engine claims. */
  engineApiVersion = '1.41';

  async apiVersion(): Promise<string> {
    this.reach('read the engine version');
    return this.engineApiVersion;
  }

  private reach(what: string): void {
    if (this.down) throw new DockerError(`docker at ${this.host}: cannot ${what}: engine unreachable (connect ECONNREFUSED)`, { transient: true });
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    this.reach('list containers');
    return [...this.containers.values()]
      .filter((c) => Object.entries(labels).every(([k, v]) => c.labels[k] === v))
      // As the engine does: once the tag points elsewhere (or is gone), the list shows the image id.
      .map(({ create: _create, restartCount: _r, startedAt: _s, restartPolicy: _p, memoryBytes: _m, nanoCpus: _n, pidsLimit: _l, ...summary }) => ({
        ...summary,
        image: this.images.get(summary.image)?.id === summary.imageId ? summary.image : summary.imageId,
      }));
  }

  async inspectContainer(id: string): Promise<ContainerDetails | undefined> {
    const c = this.containers.get(id);
    if (!c) return undefined;
    const { create: _create, ...details } = c;
    return { ...details };
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    return this.images.get(ref);
  }

  async pullImage(ref: string): Promise<void> {
    this.reach(`pull image ${ref}`);
    this.writes.push(`pull ${ref}`);
    if (this.registryDown && !this.images.has(ref)) throw new DockerError(`docker at ${this.host}: cannot pull image ${ref}: the registry is unreachable from the engine (dial tcp: i/o timeout)`, { transient: true });
    if (this.unpullable.has(ref) || !this.images.has(ref)) {
      if (!this.images.has(ref)) throw new Error(`pull access denied for ${ref}, repository does not exist`);
    }
  }

  /** `docker save`: a one-chunk "archive" naming the image and its id. */
  async saveImage(ref: string): Promise<NodeJS.ReadableStream> {
    this.reach(`export image ${ref}`);
    const info = this.images.get(ref);
    if (!info) throw new DockerError(`docker at ${this.host}: cannot export image ${ref}: reference does not exist`);
    this.writes.push(`save ${ref}`);
    return Readable.from([JSON.stringify({ ref, id: info.id })]);
  }

  /** `docker load` of a saveImage archive, read as a stream. */
  async loadImage(archive: NodeJS.ReadableStream, what: string): Promise<void> {
    this.reach(`load ${what}`);
    let text = '';
    for await (const chunk of archive) text += String(chunk);
    const { ref, id } = JSON.parse(text) as { ref: string; id: string };
    this.writes.push(`load ${ref}`);
    this.addImage(ref, id);
  }

  async buildImage(_dir: string, files: string[], tag: string): Promise<void> {
    this.writes.push(`build ${tag} from ${files.join(', ')}`);
    this.addImage(tag);
  }

  async createContainer(spec: CreateContainer): Promise<string> {
    this.reach(`create container ${spec.name}`);
    if ([...this.containers.values()].some((c) => c.name === spec.name)) throw new Error(`Conflict. The container name "/${spec.name}" is already in use`);
    const image = this.images.get(spec.image);
    if (!image) throw new Error(`No such image: ${spec.image}`);
    const id = `c${String(this.next++).padStart(11, '0')}`;
    this.writes.push(`create ${spec.name}`);
    this.containers.set(id, {
      id,
      name: spec.name,
      image: spec.image,
      imageId: image.id,
      state: 'created',
      health: 'none',
      labels: { ...spec.labels },
      restartCount: 0,
      exitCode: null,
      startedAt: null,
      restartPolicy: spec.restart,
      memoryBytes: spec.resources.memoryBytes,
      nanoCpus: spec.resources.nanoCpus,
      pidsLimit: spec.resources.pids,
      create: spec,
    });
    return id;
  }

  private get(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c) throw new Error(`No such container: ${id}`);
    return c;
  }

  async startContainer(id: string): Promise<void> {
    const c = this.get(id);
    this.writes.push(`start ${c.name}`);
    const failure = this.failing.get(c.image);
    const exit = this.exits.get(c.image);
    if (exit !== undefined) {
      Object.assign(c, { state: 'exited', exitCode: exit, startedAt: 'now' });
      return;
    }
    if (failure === 'exit') {
      Object.assign(c, { state: 'exited', exitCode: 1 });
      return;
    }
    const hasHealth = c.create.healthcheck !== null && c.create.healthcheck.test?.[0] !== 'NONE';
    Object.assign(c, { state: 'running', exitCode: null, health: hasHealth ? (failure === 'unhealthy' ? 'unhealthy' : 'healthy') : 'none' });
  }

  async stopContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return;
    this.writes.push(`stop ${c.name}`);
    Object.assign(c, { state: 'exited', exitCode: 143 });
  }

  async removeContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return;
    this.writes.push(`remove ${c.name}`);
    this.containers.delete(id);
  }

  async renameContainer(id: string, name: string): Promise<void> {
    const c = this.get(id);
    this.writes.push(`rename ${c.name} ${name}`);
    c.name = name;
  }

  /** Labels each network was created with. */
  readonly networkLabelsByName = new Map<string, Record<string, string>>();

  async ensureNetwork(name: string, labels: Record<string, string> = {}): Promise<void> {
    if (!this.networks.has(name)) {
      this.writes.push(`network ${name}`);
      this.networkLabelsByName.set(name, labels);
    }
    this.networks.add(name);
  }

  async networkLabels(name: string): Promise<Record<string, string> | undefined> {
    return this.networks.has(name) ? (this.networkLabelsByName.get(name) ?? {}) : undefined;
  }

  async listNetworks(): Promise<string[]> {
    return [...this.networks].sort();
  }

  async removeNetwork(name: string): Promise<void> {
    if (this.networks.delete(name)) this.writes.push(`remove network ${name}`);
  }

  async ensureVolume(name: string): Promise<void> {
    if (!this.volumes.has(name)) this.writes.push(`volume ${name}`);
    this.volumes.add(name);
  }

  async logsTail(id: string): Promise<string> {
    return `log of ${this.get(id).name}\n`;
  }

  /** Exit codes of exec'd commands by their first word; default 0. */
  readonly execResults = new Map<string, number>();

  async waitForExit(id: string): Promise<number | 'timeout'> {
    const c = this.get(id);
    return c.exitCode ?? 0;
  }

  /** Answers exec'd commands itself when it returns something (the fake edge proxy does: test/support/fake-edge.ts). */
  execHandler?: (container: ContainerDetails & { create: CreateContainer }, command: string[]) => { exitCode: number; output: string } | undefined;

  async exec(id: string, command: string[]): Promise<{ exitCode: number | 'timeout'; output: string }> {
    const handled = this.execHandler?.(this.get(id), command);
    if (handled) return handled;
    return { exitCode: this.execResults.get(command[0] ?? '') ?? 0, output: `ran ${command.join(' ')}\n` };
  }

  readonly watchers = new Set<(e: ContainerEvent) => void>();
  private readonly watchedActions = new Map<(e: ContainerEvent) => void, readonly string[]>();
  private readonly watchedTypes = new Map<(e: ContainerEvent) => void, 'container' | 'image'>();
  private readonly enders = new Map<(e: ContainerEvent) => void, (error?: Error) => void>();

  watchEvents(_labels: Record<string, string>, onEvent: (event: ContainerEvent) => void, onEnd: (error?: Error) => void, options: WatchOptions = {}): { close(): void } {
    this.watchers.add(onEvent);
    this.watchedActions.set(onEvent, options.actions ?? driftEvents);
    this.watchedTypes.set(onEvent, options.type ?? 'container');
    this.enders.set(onEvent, onEnd);
    options.onOpen?.();
    return { close: () => this.unwatch(onEvent) };
  }

  private unwatch(onEvent: (e: ContainerEvent) => void): void {
    this.watchers.delete(onEvent);
    this.watchedActions.delete(onEvent);
    this.watchedTypes.delete(onEvent);
    this.enders.delete(onEvent);
  }

  /** Delivers a container event to the watchers that follow its action (health_status: healthy counts as health_status). */
  emit(id: string, action: string): void {
    const c = this.containers.get(id);
    for (const watcher of this.watchers) {
      if (this.watchedTypes.get(watcher) !== 'container') continue;
      if (this.watchedActions.get(watcher)?.includes(action.split(':')[0]!)) watcher({ id, action, container: c?.name ?? '', labels: { ...(c?.labels ?? {}) } });
    }
  }

  /** Delivers an image event (tag, pull, delete, ...) to the watchers of image events. */
  emitImage(ref: string, action: string): void {
    for (const watcher of this.watchers) {
      if (this.watchedTypes.get(watcher) === 'image' && this.watchedActions.get(watcher)?.includes(action)) watcher({ id: ref, action, container: ref, labels: {} });
    }
  }

  /** Every event stream ends, as when the engine restarts; the watchers are told. */
  endStreams(error?: Error): void {
    for (const [watcher, onEnd] of [...this.enders]) {
      this.unwatch(watcher);
      onEnd(error);
    }
  }

  byName(name: string): FakeContainer | undefined {
    return [...this.containers.values()].find((c) => c.name === name);
  }

  names(): string[] {
    return [...this.containers.values()].map((c) => `${c.name} ${c.image} ${c.state}`).sort();
  }
}
