import type { ServiceManifest, SwarmDeploy, SwarmMode, SwarmUpdatePolicy, UpdateOrder } from '../manifest/types.js';

const ns = 1_000_000;

/** The service's Swarm mode (replicated unless deploy.mode says otherwise). */
export function swarmModeOf(service: ServiceManifest): SwarmMode {
  return service.spec.swarm?.mode ?? 'replicated';
}

export const isJobMode = (mode: SwarmMode) => mode === 'replicated-job' || mode === 'global-job';
export const isGlobalMode = (mode: SwarmMode) => mode === 'global' || mode === 'global-job';

/** ServiceSpec.Mode: replicas are the running tasks of a replicated service and the completions (all at once) of a replicated-job. */
export function modeBody(mode: SwarmMode, replicas: number): Record<string, unknown> {
  switch (mode) {
    case 'global':
      return { Global: {} };
    case 'global-job':
      return { GlobalJob: {} };
    case 'replicated-job':
      return { ReplicatedJob: { MaxConcurrent: replicas, TotalCompletions: replicas } };
    default:
      return { Replicated: { Replicas: replicas } };
  }
}

/** UpdateConfig or RollbackConfig: the manifest's keys over stagecoach's defaults (parallelism 1, no delay, ratio 0). */
export function updatePolicyBody(policy: SwarmUpdatePolicy | undefined, defaults: { failureAction: string; order: UpdateOrder; monitorMs: number }): Record<string, unknown> {
  return {
    Parallelism: policy?.parallelism ?? 1,
    Delay: (policy?.delayMs ?? 0) * ns,
    FailureAction: policy?.failureAction ?? defaults.failureAction,
    Monitor: (policy?.monitorMs ?? defaults.monitorMs) * ns,
    MaxFailureRatio: policy?.maxFailureRatio ?? 0,
    Order: defaults.order,
  };
}

/** TaskTemplate.Placement, or undefined when the manifest sets none. */
export function placementBody(placement: SwarmDeploy['placement']): Record<string, unknown> | undefined {
  if (!placement) return undefined;
  return {
    ...(placement.constraints ? { Constraints: placement.constraints } : {}),
    ...(placement.preferences ? { Preferences: placement.preferences.map((label) => ({ Spread: { SpreadDescriptor: label } })) } : {}),
    ...(placement.maxReplicasPerNode ? { MaxReplicas: placement.maxReplicasPerNode } : {}),
  };
}

/** TaskTemplate.Resources: limits from the container spec, reservations from deploy.resources.reservations. */
export function resourcesBody(service: ServiceManifest): Record<string, unknown> {
  const limits = service.spec.resources;
  const reserved = service.spec.swarm?.reservations;
  return {
    Limits: { ...(limits.nanoCpus ? { NanoCPUs: limits.nanoCpus } : {}), ...(limits.memoryBytes ? { MemoryBytes: limits.memoryBytes } : {}), ...(limits.pids ? { Pids: limits.pids } : {}) },
    ...(reserved ? { Reservations: { ...(reserved.nanoCpus ? { NanoCPUs: reserved.nanoCpus } : {}), ...(reserved.memoryBytes ? { MemoryBytes: reserved.memoryBytes } : {}) } } : {}),
  };
}

/** The rollback's order: rollback_config.order, else the update's; a fixed host port forces stop-first as it does for updates. */
export function rollbackOrder(service: ServiceManifest): UpdateOrder {
  const fixedPort = service.spec.ports.some((p) => p.published !== null);
  return fixedPort ? 'stop-first' : (service.spec.swarm?.rollback?.order ?? service.updateOrder);
}
