import type { Logger } from 'pino';
import type { LoadedEnvironment } from '../manifest/types.js';
import type { EdgeImageBuilder } from '../proxy/edge-image.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { ReadyOptions } from './health.js';
import type { SecretSource } from './secrets.js';

export const applyPhases = ['recovering', 'pulling', 'creating', 'starting', 'waiting', 'retiring', 'stopping', 'removing', 'rolling-back', 'switching', 'done', 'failed', 'skipped'] as const;
export type ApplyPhase = (typeof applyPhases)[number];

export interface ApplyEvent {
  environment: string;
  service: string;
  replica?: number;
  phase: ApplyPhase;
  message: string;
}

/** Named points inside a rollout where tests inject a crash (kill -9) to prove recovery. */
export const failpoints = ['after-create', 'after-start', 'during-health-wait', 'after-stop-old', 'after-retire', 'after-edge-switch'] as const;
export type Failpoint = (typeof failpoints)[number];

export interface ApplyOptions {
  runtime: ContainerRuntime;
  environment: LoadedEnvironment;
  secrets: SecretSource;
  log: Logger;
  /** Actions of one step run in parallel up to this many. */
  concurrency?: number;
  ready?: Partial<ReadyOptions>;
  /** Lines of a failing container's output kept in the result. */
  logLines?: number;
  /** Aborting stops at the next safe point: the step in flight finishes, later steps are skipped. */
  signal?: AbortSignal;
  onEvent?: (event: ApplyEvent) => void;
  failpoint?: (name: Failpoint, service: string) => void | Promise<void>;
  /** Builds the edge proxy image when it is missing and cannot be pulled (src/proxy/edge-image.ts). */
  buildEdgeImage?: EdgeImageBuilder;
}

export interface ApplyContext {
  runtime: ContainerRuntime;
  environment: LoadedEnvironment;
  revision: string;
  secrets: SecretSource;
  log: Logger;
  ready: ReadyOptions;
  logLines: number;
  emit: (service: string, replica: number | undefined, phase: ApplyPhase, message: string) => void;
  failpoint: (name: Failpoint, service: string) => Promise<void>;
  buildEdgeImage?: EdgeImageBuilder;
}

export const defaultReady: ReadyOptions = {
  graceMs: 2_000,
  pollMs: 250,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
};
