import type { ImagePolicy } from '../images/policy.js';
import type { PortBinding } from './ports.js';

export const manifestKinds = ['Environment', 'Service'] as const;
export type ManifestKind = (typeof manifestKinds)[number];

export const updateOrders = ['start-first', 'stop-first'] as const;
export type UpdateOrder = (typeof updateOrders)[number];

/** How published ports are served: by the service's edge proxy in TCP or HTTP mode (src/proxy/), or by the container itself. */
export const edgeModes = ['tcp', 'http', 'off'] as const;
export type EdgeMode = (typeof edgeModes)[number];

export const pullPolicies = ['missing', 'always', 'never'] as const;
export type PullPolicy = (typeof pullPolicies)[number];

export const dependencyConditions = ['service_started', 'service_healthy', 'service_completed_successfully'] as const;
export type DependencyCondition = (typeof dependencyConditions)[number];

/** What an environment's engine runs: containers stagecoach manages one by one, or Swarm services. */
export const targetModes = ['engine', 'swarm'] as const;
export type TargetMode = (typeof targetModes)[number];

/** Swarm service modes (deploy.mode); an engine target runs replicated only. */
export const swarmModes = ['replicated', 'global', 'replicated-job', 'global-job'] as const;
export type SwarmMode = (typeof swarmModes)[number];

export const failureActions = ['rollback', 'pause', 'continue'] as const;
export type FailureAction = (typeof failureActions)[number];

export const endpointModes = ['vip', 'dnsrr'] as const;
export type EndpointMode = (typeof endpointModes)[number];

/** update_config / rollback_config beyond order; each key only when the manifest sets it (unset keeps stagecoach's default). */
export interface SwarmUpdatePolicy {
  parallelism?: number;
  delayMs?: number;
  failureAction?: FailureAction;
  monitorMs?: number;
  maxFailureRatio?: number;
  order?: UpdateOrder;
}

/**
 * What only a Swarm target honours (src/manifest/service-swarm.ts), set on
 * Swarm targets and only for the keys the manifest sets, so a service that
 * uses none keeps its spec hash.
 */
export interface SwarmDeploy {
  mode?: SwarmMode;
  update?: SwarmUpdatePolicy;
  rollback?: SwarmUpdatePolicy;
  placement?: { constraints?: string[]; preferences?: string[]; maxReplicasPerNode?: number };
  reservations?: { nanoCpus?: number; memoryBytes?: number };
  endpointMode?: EndpointMode;
}

export const promotionModes = ['branch', 'commit', 'off'] as const;
export type PromotionMode = (typeof promotionModes)[number];

export interface SecretRef {
  secret: string;
}
export type EnvValue = string | SecretRef;

export interface Mount {
  type: 'volume' | 'bind' | 'tmpfs';
  /** Volume name or host path; null for an anonymous volume or a tmpfs. */
  source: string | null;
  target: string;
  readOnly: boolean;
  /** SELinux relabel (:z shared, :Z private); only set when asked. */
  selinux?: 'z' | 'Z';
  /** Volume: do not copy the image's content into a new volume. */
  noCopy?: true;
  /** Bind propagation, when asked. */
  propagation?: string;
  /** tmpfs size in bytes and mode, when asked. */
  tmpfsBytes?: number;
  tmpfsMode?: number;
  /** An existing volume joined as is (compose external: true), not one of the environment's. */
  external?: true;
}

/**
 * Container options beyond the basics, each set only when the manifest sets it,
 * so that adding an option to stagecoach never changes the hash of a service that does not use it.
 */
export interface ContainerOptions {
  user?: string;
  workingDir?: string;
  hostname?: string;
  domainname?: string;
  readOnly?: boolean;
  tmpfs?: Record<string, string>;
  ulimits?: Record<string, { soft: number; hard: number }>;
  shmBytes?: number;
  logging?: { driver: string; options: Record<string, string> };
  stopSignal?: string;
  extraHosts?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  stdinOpen?: boolean;
  tty?: boolean;
  platform?: string;
  /** "3000/tcp" keys: exposed, not published. */
  expose?: string[];
  memoryReservationBytes?: number;
  cpuShares?: number;
  groupAdd?: string[];
  memorySwapBytes?: number;
  cpusetCpus?: string;
  cpuQuota?: number;
  cpuPeriod?: number;
}

export interface Healthcheck {
  /** null: keep the image's test, change only the timings. ['NONE']: disabled. */
  test: string[] | null;
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
  startIntervalMs: number;
}

/**
 * Everything that defines one container. Its hash (the spec hash) decides
 * whether a running container still matches: change any field and the
 * container is replaced. Scaling, ordering and pull policy live outside it.
 */
export interface ContainerSpec {
  image: string;
  command: string[] | null;
  entrypoint: string[] | null;
  environment: Record<string, EnvValue>;
  ports: PortBinding[];
  volumes: Mount[];
  /** null: the image's own healthcheck, if any. */
  healthcheck: Healthcheck | null;
  labels: Record<string, string>;
  restart: string;
  resources: { nanoCpus: number | null; memoryBytes: number | null; pids: number | null };
  stopGraceMs: number;
  /** docker run --init */
  init: boolean;
  /** Present only when the manifest sets one of them. */
  options?: ContainerOptions;
  /** compose container_name: the container's name instead of <environment>-<service>. */
  containerName?: string;
  /** Files copied in at create (repo files, configs, secrets); only when set. */
  files?: FileMount[];
  /** Networks joined besides (or aliases on) the default one, by their environment-level key; only when set. */
  networks?: Record<string, NetworkAttachment>;
  /** Host-level options (src/manifest/service-host.ts), each only when set; the operator policy decides whether they may run. */
  privileged?: true;
  capAdd?: string[];
  capDrop?: string[];
  devices?: DeviceMapping[];
  networkMode?: 'host';
  pid?: 'host';
  ipc?: 'host';
  securityOpt?: string[];
  sysctls?: Record<string, string>;
  /** Swarm-only deploy settings, on Swarm targets when set. */
  swarm?: SwarmDeploy;
}

/** compose `devices` short form /dev/x[:/dev/y[:rwm]]. */
export interface DeviceMapping {
  host: string;
  container: string;
  permissions: string;
}

export interface NetworkDefinition {
  /** The Docker network name: stagecoach-<env>-<key>, or the external name. */
  name: string;
  external: boolean;
  internal: boolean;
  driverOpts: Record<string, string>;
  labels: Record<string, string>;
  subnets: { subnet: string; gateway?: string; ipRange?: string }[];
  /** Short hash of what shapes a network stagecoach owns (internal, driver_opts, labels, ipam); absent for an external one. */
  digest?: string;
}

/** A file copied into the container at create: from the repo, a config, or a secret resolved on the daemon host. */
export interface FileMount {
  target: string;
  mode: number;
  uid?: number;
  gid?: number;
  /** Repo path, config:<name> or secret:<name>: for messages. */
  from: string;
  /** Content hash (repo files and configs), so a changed file replaces the container. */
  sha256?: string;
  /** Secret name, resolved at create; its value is never hashed into a label. */
  secret?: string;
}

/** How one service joins one network. */
export interface NetworkAttachment {
  aliases?: string[];
  ipv4Address?: string;
  /** The owned network's definition digest: a changed definition changes the spec of every service that joins it. */
  definition?: string;
}

export interface ServiceManifest {
  name: string;
  /** Repo-relative manifest file, and where the document starts. */
  file: string;
  line: number;
  spec: ContainerSpec;
  specHash: string;
  replicas: number;
  updateOrder: UpdateOrder;
  /** Whether stop-first was forced by a fixed host port rather than asked for. */
  updateOrderForced: boolean;
  /** Why the order was forced, for plan. */
  updateOrderReason?: string;
  dependsOn: Record<string, DependencyCondition>;
  /** Dependencies marked `required: false`: a missing, unknown or failed one does not hold this service back. */
  optionalDependencies?: string[];
  pullPolicy: PullPolicy;
  /** Things plan tells the reader (e.g. that the daemon does not build). */
  notes?: string[];
  /** Contents of repo files and configs by target path (secrets are resolved at create). */
  fileContents?: Record<string, Buffer>;
  /** Compose profiles; the service deploys only when the environment activates one. Empty: always. */
  profiles?: string[];
  /** `edge:`; default tcp. Used only when a fixed host port is published. */
  edge: EdgeMode;
  /** How the image moves by itself (image automation); absent or null: only commits move it. Not in the spec hash. */
  imagePolicy?: ImagePolicy | null;
}

export interface HttpTest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
  expect: { status: number; body: string | null; bodyRegex: string | null; json: Record<string, unknown> };
}
export interface ContainerTest {
  image: string;
  command: string[] | null;
  environment: Record<string, EnvValue>;
}
export interface ExecTest {
  service: string;
  command: string[];
}

export interface TestSpec {
  name: string;
  retries: number;
  delayMs: number;
  timeoutMs: number;
  http?: HttpTest;
  container?: ContainerTest;
  exec?: ExecTest;
}

export interface EnvironmentManifest {
  name: string;
  file: string;
  target: { docker: string | null; tls: { ca: string; cert: string; key: string } | null; mode: TargetMode };
  /** parallelism: services of one dependency step rolled out at once (engine targets). */
  sync: { auto: boolean; prune: boolean; selfHeal: boolean; schedule: string | null; parallelism: number };
  policy: { bindMounts: string[]; secretNames: string };
  /** Compose profiles active in this environment. */
  profiles?: string[];
  /** Configs defined at environment level, with their content. */
  configs?: Record<string, { content: Buffer }>;
  /** compose top-level secrets: the daemon host's secret each one is read from (hostName); never a value. */
  secrets?: Record<string, { hostName: string }>;
  /** Networks defined at environment level (besides the default one). */
  networks?: Record<string, NetworkDefinition>;
  /** Volumes defined at environment level: external ones are joined by their own name. */
  volumes?: Record<string, { external: boolean; name: string }>;
  tests: TestSpec[];
  verify: { schedule: string | null };
  promotion: { from: string | null; auto: PromotionMode };
}

/** One environment at one revision, validated and normalized: plain data. */
export interface LoadedEnvironment {
  name: string;
  environment: EnvironmentManifest;
  services: ServiceManifest[];
}
