import type { Logger } from 'pino';
import type { EnvironmentManifest, LoadedEnvironment } from '../manifest/types.js';
import type { Clock } from './clock.js';
import type { Decision, DecisionKind, ServiceStatus, SyncState, TargetKind } from './status.js';

/** Updates a revision already failed for: not retried until a new revision or a manual sync. */
export interface FailedUpdate {
  revision: string;
  services: Set<string>;
}

export interface DeployInput {
  env: LoadedEnvironment;
  revision: string;
  /** Services as status last showed them (their last actions are kept). */
  services: readonly ServiceStatus[];
  failed: FailedUpdate | undefined;
  autoApply: boolean;
  trigger: string;
  /** Only the periodic drift check asks for it: the engine's event stream may vouch that nothing changed (no list call). */
  periodic?: boolean;
  /** Aborted when a newer revision supersedes this rollout, or the daemon stops. */
  signal?: AbortSignal;
  /** Told while the rollout runs (state progressing, the decisions taken), so status shows it before it ends. */
  progress?(update: { state: SyncState; decisions: Decision[] }): void;
}

/** What one deploy step did; the daemon stores it. Decisions are in the order they were taken (those already told through `progress` are not repeated). */
export interface DeployResult {
  state: SyncState;
  /** The kind of target deployed to, shown in status. */
  target?: TargetKind;
  services: ServiceStatus[];
  errors: string[];
  decisions: Decision[];
  /** True when the environment now runs `revision` (or cannot get closer to it before a new one). */
  applied: boolean;
  lastReconcile?: { at: string; durationMs: number; outcome: string };
  failed: FailedUpdate | undefined;
  /** Something was created, replaced, restarted or removed. */
  changed: boolean;
  converged: boolean;
  /** Failures worth retrying as is (the engine went away, the registry did not answer): retried with backoff. */
  transient: string[];
}

/**
 * The per-environment deploy step: observe → plan → apply for one target
 * kind. The container implementation is `ContainerDeploy`; another target
 * (a Swarm stack) plugs in beside it through `DeployStepFor`. Throws only when
 * the target cannot be reached at all (the daemon backs off and retries).
 */
export interface DeployStep {
  deploy(input: DeployInput): Promise<DeployResult>;
}

/** Picks the deploy step of an environment (by its target). */
export type DeployStepFor = (environment: EnvironmentManifest) => DeployStep;

/**
 * The decisions one deploy step takes at a revision, in order, each logged
 * with its reason as it is taken (errors, rollbacks and refusals at warn).
 */
export function decisionLog(log: Logger, clock: Clock, revision: string) {
  const decisions: Decision[] = [];
  const at = () => clock.now().toISOString();
  const decide = (kind: DecisionKind, reason: string, service?: string) => {
    decisions.push({ at: at(), kind, revision, reason, ...(service ? { service } : {}) });
    const level = kind === 'error' || kind === 'rollback' || kind === 'invalid' ? 'warn' : 'info';
    log[level]({ decision: kind, service, reason }, `decision: ${kind}`);
  };
  return { decisions, decide, at };
}
