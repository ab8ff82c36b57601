import type { ImageStatus } from '../images/automation.js';
import type { ActionKind } from '../reconcile/types.js';
import type { SwarmActionKind } from '../swarm/plan.js';

export const syncStates = ['unknown', 'progressing', 'synced', 'out-of-sync', 'degraded', 'invalid', 'blocked', 'unreachable'] as const;
export type SyncState = (typeof syncStates)[number];

/** What an environment's services run on: containers on one engine, or services of a Swarm (target.mode). */
export const targetKinds = ['engine', 'swarm'] as const;
export type TargetKind = (typeof targetKinds)[number];

export const decisionKinds = ['deploy', 'rollback', 'heal', 'remove', 'recover', 'skip', 'block', 'invalid', 'error', 'verify', 'promote'] as const;
export type DecisionKind = (typeof decisionKinds)[number];

/** One thing the daemon decided, and why: what a person reads to understand a redeploy, rollback, block or skip. */
export interface Decision {
  at: string;
  kind: DecisionKind;
  revision: string | null;
  service?: string;
  reason: string;
  /** For verify decisions: how the tests went. */
  result?: 'passed' | 'failed';
}

export interface ServiceStatus {
  name: string;
  /** The image that runs (as last observed); null when nothing runs. */
  image: string | null;
  /** The image the applied manifests ask for. */
  desiredImage: string;
  /** running, exited, missing, … as last observed */
  state: string;
  health: string;
  lastAction: { kind: ActionKind | SwarmActionKind; outcome: string; reasons: string[]; message: string; at: string } | null;
  /** Swarm services only: replicas running of those wanted, Swarm's update state, and the tasks with their node. */
  swarm?: SwarmServiceStatus;
}

export interface SwarmServiceStatus {
  replicas: { running: number; desired: number };
  /** Swarm's UpdateStatus (rollback_completed after Swarm rolled an update back); null before any update. */
  update: { state: string; message: string } | null;
  /** Tasks meant to run, then the newest that failed; `node` is the node's hostname when known. */
  tasks: { id: string; node: string; state: string; desiredState: string; image: string; error: string | null }[];
}

export interface EnvironmentStatus {
  name: string;
  state: SyncState;
  /** Set once the environment was deployed or checked: engine (containers) or swarm (services). */
  target?: TargetKind;
  revision: { desired: string | null; applied: string | null; lastGood: string | null };
  services: ServiceStatus[];
  /** Problems now: invalid manifests (file:line: …), unreachable engine, failed updates. */
  errors: string[];
  blocked: string[];
  /** The promotion gate: where images must have passed, and whether they did. */
  gate: { from: string; state: 'open' | 'blocked' } | null;
  lastMarker: {
    result: string;
    revision: string;
    at: string;
    commit: string;
    tests: string;
    /** The images the marker verified (absent for a marker read back from history after a restart, until the index has them). */
    images?: { service: string; image: string }[];
    /** Every test of the marker, when this daemon ran them. */
    results?: { name: string; result: string; message: string }[];
  } | null;
  /** Proposals waiting for a person to merge them. */
  proposals: { branch: string; commit: string; images: string[]; at: string }[];
  lastReconcile: { at: string; durationMs: number; outcome: string } | null;
  /** Set while a transient failure (engine down, registry unreachable) waits for its retry: milliseconds from \`retryAt\`'s snapshot. */
  retryingInMs?: number | null;
  /** When the pending retry runs (ISO time). */
  retryAt?: string | null;
  /** Newest first, at most 50. */
  decisions: Decision[];
}

export interface DaemonStatus {
  ready: boolean;
  repo: string;
  branch: string;
  remote: { head: string | null; checkedAt: string | null; error: string | null };
  environments: EnvironmentStatus[];
  /** Image automation: each watched service's image, the newest its policy allows, last check and last error. */
  images?: ImageStatus[];
}

export const maxDecisions = 50;

export function emptyEnvironment(name: string): EnvironmentStatus {
  return { name, state: 'unknown', revision: { desired: null, applied: null, lastGood: null }, services: [], errors: [], blocked: [], gate: null, lastMarker: null, proposals: [], lastReconcile: null, decisions: [] };
}
