import type { ContainerOptions, ContainerSpec } from '../manifest/types.js';

/**
 * The narrow port to a container engine. reconcile/ talks only to this; one
 * dockerode implementation lives beside it, and tests use an in-memory fake.
 * Every failure is a DockerError whose message names the host, the container
 * (or image) and the operation.
 */

export const containerStates = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'] as const;
export type ContainerState = (typeof containerStates)[number];

export const healthStates = ['none', 'starting', 'healthy', 'unhealthy'] as const;
export type HealthState = (typeof healthStates)[number];

/** What one list call tells about a container. */
export interface ContainerSummary {
  id: string;
  /** Without the leading slash. */
  name: string;
  /** The reference it was created from, or the image id once that tag points elsewhere. */
  image: string;
  imageId: string;
  state: ContainerState;
  health: HealthState;
  labels: Record<string, string>;
  /** For an exited container, from the list call's status (`Exited (0) …`); null while it runs, undefined when not known. */
  exitCode?: number | null;
}

/** What an inspect adds: enough to notice changes made by hand (docker update). */
export interface ContainerDetails extends ContainerSummary {
  restartCount: number;
  exitCode: number | null;
  startedAt: string | null;
  restartPolicy: string;
  memoryBytes: number | null;
  nanoCpus: number | null;
  pidsLimit: number | null;
}

export interface PortSpec {
  target: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  published: number | null;
  hostIp: string;
}

export interface MountSpec {
  type: 'volume' | 'bind' | 'tmpfs';
  source: string | null;
  target: string;
  readOnly: boolean;
  selinux?: 'z' | 'Z';
  noCopy?: true;
  propagation?: string;
  tmpfsBytes?: number;
  tmpfsMode?: number;
}

export interface HealthcheckSpec {
  test: string[] | null;
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
  /** Probe interval during the start period; sent only to engines with API ≥ 1.44 (see engine-version.ts). */
  startIntervalMs?: number;
}

/** A container to create, fully resolved (secrets included): never logged as is. */
export interface CreateContainer {
  name: string;
  image: string;
  command: string[] | null;
  entrypoint: string[] | null;
  env: Record<string, string>;
  labels: Record<string, string>;
  ports: PortSpec[];
  mounts: MountSpec[];
  healthcheck: HealthcheckSpec | null;
  restart: string;
  init: boolean;
  stopGraceMs: number;
  resources: { nanoCpus: number | null; memoryBytes: number | null; pids: number | null };
  network: string;
  /** DNS names on the network (the service name). */
  aliases: string[];
  /** Files written into the container after create and before start (repo files, configs, secrets): never logged. */
  /** Content as bytes (repo files and configs arrive byte for byte) or text (secrets). */
  files?: { path: string; content: string | Buffer; mode: number; uid?: number; gid?: number }[];
  /** Networks joined besides the main one, connected after create and before start. */
  extraNetworks?: { name: string; aliases: string[]; ipv4Address?: string }[];
  /** Further container options (user, tmpfs, ulimits, logging, …), each only when set. */
  options?: ContainerOptions;
  /** Host-level options the operator's policy allowed (privileged, capabilities, devices, host namespaces, …), each only when set. */
  host?: HostSettings;
}

/** compose's host-level options as the engine takes them; networkMode host replaces the environment network. */
export type HostSettings = Pick<ContainerSpec, 'privileged' | 'capAdd' | 'capDrop' | 'devices' | 'networkMode' | 'pid' | 'ipc' | 'securityOpt' | 'sysctls'>;

export interface NetworkOptions {
  internal?: boolean;
  driverOpts?: Record<string, string>;
  subnets?: { subnet: string; gateway?: string; ipRange?: string }[];
}

export interface ImageInfo {
  id: string;
  /** Registry digests (repo@sha256:…) when the image came from a registry. */
  repoDigests: string[];
}

export interface RegistryAuth {
  username?: string;
  password?: string;
  auth?: string;
  serveraddress?: string;
  identitytoken?: string;
}

export interface ContainerRuntime {
  /** The endpoint, for messages: unix:///var/run/docker.sock, tcp://host:2376, … */
  readonly host: string;
  ping(): Promise<void>;
  /** The engine's API version ("1.41"); asked once per runtime, then remembered. */
  apiVersion(): Promise<string>;
  /** Every container (running or not) carrying all these labels: one API call. */
  listContainers(labels: Record<string, string>): Promise<ContainerSummary[]>;
  /** undefined when it no longer exists. */
  inspectContainer(id: string): Promise<ContainerDetails | undefined>;
  /** undefined when the image is not present locally. */
  inspectImage(ref: string): Promise<ImageInfo | undefined>;
  /** platform (os/arch[/variant]) picks that variant of a multi-platform image. */
  pullImage(ref: string, auth?: RegistryAuth, platform?: string): Promise<void>;
  /** Builds `files` of the folder `dir` (a Dockerfile among them) into `tag`; fails when the build does. Optional: only the example's stand-in needs it. */
  buildImage?(dir: string, files: string[], tag: string): Promise<void>;
  /** `docker save`: the image as a tar stream, never read whole. Optional: only the edge proxy image is copied between engines. */
  saveImage?(ref: string): Promise<NodeJS.ReadableStream>;
  /** `docker load` of such a stream; `what` names it in errors. Optional, as saveImage. */
  loadImage?(archive: NodeJS.ReadableStream, what: string): Promise<void>;
  createContainer(spec: CreateContainer): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** Stopping a stopped container is not an error. */
  stopContainer(id: string, graceMs: number): Promise<void>;
  /** Removing a missing container is not an error. */
  removeContainer(id: string): Promise<void>;
  renameContainer(id: string, name: string): Promise<void>;
  ensureNetwork(name: string, labels: Record<string, string>, options?: NetworkOptions): Promise<void>;
  /** The labels of the network of that name; undefined when there is none. */
  networkLabels?(name: string): Promise<Record<string, string> | undefined>;
  /** Names of the networks carrying all these labels. */
  listNetworks(labels: Record<string, string>): Promise<string[]>;
  /** Removing a missing network is not an error; one still in use is. */
  removeNetwork(name: string): Promise<void>;
  ensureVolume(name: string, labels: Record<string, string>): Promise<void>;
  /** The last lines of a container's output (stdout and stderr). */
  logsTail(id: string, lines: number): Promise<string>;
  /**
   * Follows the engine's events for containers carrying these labels (died,
   * stopped, removed, paused, unhealthy) until closed; lets drift be healed
   * between polls. onEnd is told when the stream ends or cannot be opened.
   */
  /** Waits for a container to exit; kills it after timeoutMs. Resolves to its exit code, or 'timeout'. */
  waitForExit(id: string, timeoutMs: number): Promise<number | 'timeout'>;
  /** Runs a command inside a running container; kills nothing on timeout but stops waiting. */
  exec(id: string, command: string[], timeoutMs: number): Promise<{ exitCode: number | 'timeout'; output: string }>;
  watchEvents(labels: Record<string, string>, onEvent: (event: ContainerEvent) => void, onEnd: (error?: Error) => void, options?: WatchOptions): { close(): void };
}

export interface WatchOptions {
  /** Which actions to follow; default: die, stop, destroy, pause, oom, health_status (what drift is made of). */
  actions?: string[];
  /** Told once the stream is open: events from then on are delivered. */
  onOpen?: () => void;
  /** Whose events: containers carrying the labels (default), or images (labels are then not a filter). */
  type?: 'container' | 'image';
}

/** The default actions watchEvents follows. */
export const driftEvents = ['die', 'stop', 'destroy', 'pause', 'oom', 'health_status'] as const;

export interface ContainerEvent {
  /** The container's id, when the engine says it. */
  id?: string;
  action: string;
  container: string;
  labels: Record<string, string>;
}
