/**
 * The narrow port to a Swarm manager. swarm/plan and swarm/apply talk only to
 * this; one dockerode implementation lives beside it (docker-swarm.ts) and
 * unit tests use FakeSwarm. Every failure is a DockerError naming the host,
 * the service and the operation.
 */
import type { ContainerSpec, SwarmMode } from '../manifest/types.js';
import type { SwarmFileKind } from './swarm-files.js';

/** Swarm's own UpdateStatus.State values. */
export const updateStates = ['updating', 'paused', 'completed', 'rollback_started', 'rollback_paused', 'rollback_completed'] as const;
export type UpdateState = (typeof updateStates)[number];

/** Task states as the engine names them (swarmkit api.TaskState). */
export const taskStates = ['new', 'allocated', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned'] as const;
export type TaskState = (typeof taskStates)[number];

export interface SwarmTask {
  id: string;
  serviceId: string;
  nodeId: string;
  /** The service spec version this task was made from. */
  slot: number | null;
  state: TaskState;
  desiredState: TaskState;
  message: string;
  error: string | null;
  containerId: string | null;
  exitCode: number | null;
  /** The spec hash label of the task's container spec: which applied spec it runs. */
  specHash: string;
  /** The image as Swarm resolved it (name@sha256:… when a registry answered). */
  image: string;
  createdAt: string;
}

/** One service as read back: what stagecoach's labels say, and what Swarm holds now. */
export interface ObservedService {
  id: string;
  name: string;
  version: number;
  labels: Record<string, string>;
  /** From the spec label: what was applied; undefined when missing or unreadable. */
  spec: ContainerSpec | undefined;
  specHash: string;
  /** What Swarm runs now (a person may have changed it: drift). */
  image: string;
  /** The service's mode as Swarm holds it (Swarm cannot change it in place). */
  mode: SwarmMode;
  /** Replicas of a replicated service, completions of a replicated-job; 0 for global modes. */
  replicas: number;
  env: string[];
  update: { state: UpdateState; message: string; startedAt: string | null; completedAt: string | null } | null;
}

/** A Swarm service body in the Engine API's shape (ServiceSpec), built by service-spec.ts. Contains resolved secrets: never log it. */
export interface ServiceBody {
  Name: string;
  Labels: Record<string, string>;
  TaskTemplate: Record<string, unknown>;
  Mode: Record<string, unknown>;
  /** Absent for jobs (Swarm refuses them there). */
  UpdateConfig?: Record<string, unknown>;
  RollbackConfig?: Record<string, unknown>;
  EndpointSpec: Record<string, unknown>;
}

export interface SwarmPort {
  /** The endpoint, for messages. */
  readonly host: string;
  /** Throws unless the engine is an active Swarm manager, saying what to do. */
  requireManager(): Promise<{ nodeId: string }>;
  listServices(labels: Record<string, string>): Promise<ObservedService[]>;
  inspectService(id: string): Promise<ObservedService | undefined>;
  listTasks(serviceId: string): Promise<SwarmTask[]>;
  createService(body: ServiceBody): Promise<string>;
  /** Replaces the spec at `version`; retries "update out of sequence" with a fresh version. */
  updateService(id: string, body: ServiceBody): Promise<void>;
  removeService(id: string): Promise<void>;
  /** An attachable overlay network (containers of tests can join it). */
  ensureOverlayNetwork(name: string, labels: Record<string, string>): Promise<void>;
  /** A secret or config of this name, created unless it exists (Swarm's are immutable); its id. Never logs `data`. */
  ensureFile(kind: SwarmFileKind, name: string, data: string | Buffer, labels: Record<string, string>): Promise<string>;
  /** Secrets and configs carrying these labels. */
  listFiles(labels: Record<string, string>): Promise<{ kind: SwarmFileKind; id: string; name: string }[]>;
  /** Removes a secret or config; false when a service still uses it (Swarm refuses). */
  removeFile(kind: SwarmFileKind, id: string): Promise<boolean>;
  /** The last lines a task's container wrote. */
  taskLogsTail(task: SwarmTask, lines: number): Promise<string>;
  /** The Swarm's nodes (id and hostname), to say where each task runs. */
  listNodes(): Promise<{ id: string; hostname: string }[]>;
}
