import type { ContainerSpec } from '../manifest/types.js';
import type { Slot } from '../runtime/labels.js';
import type { ContainerDetails } from '../runtime/types.js';
import type { EdgeAction, ObservedEdge } from '../proxy/edge-plan.js';
import type { EdgeColor } from '../proxy/edge-spec.js';

/** A labelled container of one environment, as read back from the engine. */
export interface ObservedContainer {
  id: string;
  name: string;
  service: string;
  replica: number;
  slot: Slot;
  specHash: string;
  /** Parsed from the spec label; undefined when missing or unreadable. */
  spec: ContainerSpec | undefined;
  revision: string;
  image: string;
  imageId: string;
  state: ContainerDetails['state'];
  health: ContainerDetails['health'];
  /** For an exited container (from the list call's status, or inspect); null while it runs. */
  exitCode: number | null;
  /** From inspect: what `docker update` can change by hand. */
  details: Pick<ContainerDetails, 'restartCount' | 'exitCode' | 'restartPolicy' | 'memoryBytes' | 'nanoCpus' | 'pidsLimit'> | undefined;
  /** Behind the edge proxy: the container's colour (src/proxy/). */
  edgeColor?: EdgeColor;
}

export interface ActualState {
  environment: string;
  containers: ObservedContainer[];
  /** Local image id of desired image references whose containers' tag moved (only those are looked up); undefined when not present. */
  images: Record<string, string | undefined>;
  /** The environment's edge proxies (src/proxy/). */
  edges?: ObservedEdge[];
  /** What the engine can do, when known: decides which spec fields reach it. */
  engine?: { apiVersion: string };
}

export const actionKinds = ['create', 'replace', 'restart', 'remove', 'noop'] as const;
export type ActionKind = (typeof actionKinds)[number];

/** How a restart brings a drifted container back: start it, or recreate it from its spec. */
export const restartModes = ['start', 'recreate'] as const;
export type RestartMode = (typeof restartModes)[number];

export interface FieldChange {
  /** e.g. image, environment.LOG_LEVEL, ports */
  field: string;
  from: string;
  to: string;
}

export interface Action {
  kind: ActionKind;
  service: string;
  /** 1-based replica index; absent for whole-service noops. */
  replica?: number;
  /** The container acted on (replace, restart, remove, noop). */
  container?: { id: string; name: string };
  /** The image that will run afterwards (or runs, for noop/remove). */
  image: string;
  fromImage?: string;
  reasons: string[];
  changes?: FieldChange[];
  order?: 'start-first' | 'stop-first';
  restartMode?: RestartMode;
  /** The stop grace period of the container acted on, from its own spec. */
  graceMs?: number;
  /** Position in the rollout: all of step n finish before step n+1 starts. */
  step: number;
  /** The new container runs behind the edge proxy, in this colour (src/proxy/). */
  edge?: { color: EdgeColor; from?: EdgeColor };
  /** A one-shot job (see dependencies.ts): it runs to its exit instead of waiting for health. */
  job?: boolean;
  /** For a noop: the container as observed, which tells its dependants whether it is ready. */
  observed?: { state: ContainerDetails['state']; health: ContainerDetails['health']; exitCode: number | null };
}

export const recoveryKinds = ['remove-candidate', 'promote-candidate', 'remove-previous', 'restore-previous', 'remove-duplicate'] as const;
export type RecoveryKind = (typeof recoveryKinds)[number];

/** Finishing or undoing a rollout that a crash interrupted. */
export interface RecoveryStep {
  kind: RecoveryKind;
  service: string;
  replica: number;
  container: { id: string; name: string };
  /** For promote/restore: the name it gets back; for restore also which container to remove first. */
  rename?: string;
  removeFirst?: { id: string; name: string };
  reason: string;
}

/** Something the reviewer should know that changes no action: a field the engine cannot honor, say. */
export interface PlanNote {
  service: string;
  message: string;
}

export interface Plan {
  environment: string;
  revision: string;
  recovery: RecoveryStep[];
  actions: Action[];
  /** Edge proxy heal, prune and recovery steps (src/proxy/edge-plan.ts). */
  edges?: EdgeAction[];
  notes?: PlanNote[];
}

export function pendingChanges(plan: Plan): Action[] {
  return plan.actions.filter((a) => a.kind !== 'noop');
}

export function inSync(plan: Plan): boolean {
  return plan.recovery.length === 0 && pendingChanges(plan).length === 0 && (plan.edges ?? []).length === 0;
}
