import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { LoadedEnvironment } from '../manifest/types.js';
import type { EdgeImageSupply } from '../proxy/edge-image.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { ReadyOptions } from './health.js';
import type { SecretSource } from './secrets.js';
import type { ContainerWakeups } from './wakeups.js';

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
export const failpoints = ['after-create', 'after-start', 'during-health-wait', 'after-stop-old', 'after-retire', 'after-edge-config', 'after-edge-switch'] as const;
export type Failpoint = (typeof failpoints)[number];

export interface ApplyOptions {
  runtime: ContainerRuntime;
  environment: LoadedEnvironment;
  secrets: SecretSource;
  log: Logger;
  ready?: Partial<ReadyOptions>;
  /** Lines of a failing container's output kept in the result. */
  logLines?: number;
  /** Aborting stops at the next safe point: the step in flight finishes, later steps are skipped. */
  signal?: AbortSignal;
  onEvent?: (event: ApplyEvent) => void;
  failpoint?: (name: Failpoint, service: string) => void | Promise<void>;
  /** Where the edge proxy image comes from when the engine lacks it and cannot pull it: built locally, copied to remote engines (src/proxy/edge-image.ts). */
  edgeImages?: EdgeImageSupply;
}

export interface ApplyContext {
  runtime: ContainerRuntime;
  environment: LoadedEnvironment;
  revision: string;
  secrets: SecretSource;
  log: Logger;
  ready: ReadyOptions;
  /** Engine events for this environment's containers, which wake readiness waits. */
  wakeups?: ContainerWakeups;
  logLines: number;
  emit: (service: string, replica: number | undefined, phase: ApplyPhase, message: string) => void;
  failpoint: (name: Failpoint, service: string) => Promise<void>;
  edgeImages?: EdgeImageSupply;
  /** Each image's presence check (or pull) of this apply, by pull policy, image and platform: the services of a wave share one. */
  imageChecks?: Map<string, Promise<void>>;
}

/** Sleeps ms, or less when the signal aborts; never rejects. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => undefined);
}

/**
 * Readiness defaults: events wake the wait, so the poll is only a safety net.
 * Without a healthcheck nothing can say a service works; ready then means
 * running, with no `die` or restart in the 500 ms after its start, which
 * catches a command that fails at once (a missing file, a bad flag, a
 * refused config) and costs a wave of 20 half a second, where
 * `docker-compose up -d` waits for nothing. A crash later than that is the
 * engine's restart policy's to handle; a healthcheck gates on more.
 */
export const defaultReady: ReadyOptions = {
  graceMs: 500,
  pollMs: 2_000,
  sleep: abortableSleep,
  now: () => Date.now(),
};
