import type { LoadedEnvironment } from '../manifest/types.js';
import { labels } from '../runtime/labels.js';
import type { SwarmState } from '../swarm/plan.js';
import type { ObservedService, SwarmPort, SwarmTask } from '../swarm/types.js';
import type { ServiceStatus, SwarmServiceStatus } from './status.js';
import { compareText } from '../text-order.js';

/** An environment's Swarm services, their tasks and the nodes' names: everything the Swarm deploy step reads. */
export interface SwarmObservation extends SwarmState {
  nodes: Map<string, string>;
}

/** Reads the environment's services (by label), each one's tasks, and the node names. Reads only. */
export async function observeSwarm(swarm: SwarmPort, environment: string): Promise<SwarmObservation> {
  const services = await swarm.listServices({ [labels.managed]: 'true', [labels.environment]: environment });
  const tasks: Record<string, SwarmTask[]> = {};
  for (const s of services) tasks[s.id] = await swarm.listTasks(s.id);
  const nodes = new Map((await swarm.listNodes()).map((n) => [n.id, n.hostname]));
  return { services, tasks, nodes };
}

export const isRunning = (t: SwarmTask) => t.desiredState === 'running' && t.state === 'running';
const failedStates = new Set(['failed', 'rejected']);

/** The observed service of a manifest service (by the service label, else by name). */
export function serviceOf(observed: SwarmState, env: string, service: string): ObservedService | undefined {
  return observed.services.find((o) => o.labels[labels.service] === service) ?? observed.services.find((o) => o.name === `${env}_${service}`);
}

function swarmStatus(o: ObservedService, tasks: SwarmTask[], nodes: Map<string, string>): SwarmServiceStatus {
  const meant = tasks.filter((t) => t.desiredState === 'running');
  const failed = tasks.filter((t) => failedStates.has(t.state)).sort((a, b) => compareText(b.createdAt, a.createdAt)).slice(0, 3);
  return {
    replicas: { running: meant.filter(isRunning).length, desired: o.replicas },
    update: o.update ? { state: o.update.state, message: o.update.message } : null,
    tasks: [...meant, ...failed].map((t) => ({ id: t.id.slice(0, 12), node: nodes.get(t.nodeId) ?? t.nodeId, state: t.state, desiredState: t.desiredState, image: t.image, error: t.error })),
  };
}

function stateOf(s: SwarmServiceStatus): string {
  if (s.replicas.running >= s.replicas.desired) return 'running';
  return s.replicas.running > 0 ? 'partly running' : 'not running';
}

/** Status lines of an environment's Swarm services; the last action of each is kept unless `actions` has a newer one. */
export function describeSwarmServices(env: LoadedEnvironment, observed: SwarmObservation, previous: readonly ServiceStatus[], actions: ReadonlyMap<string, ServiceStatus['lastAction']> = new Map()): ServiceStatus[] {
  const last = new Map(previous.map((s) => [s.name, s.lastAction]));
  return env.services.map((s) => {
    const lastAction = actions.get(s.name) ?? last.get(s.name) ?? null;
    const o = serviceOf(observed, env.name, s.name);
    if (!o) return { name: s.name, image: null, desiredImage: s.spec.image, state: 'missing', health: 'none', lastAction };
    const swarm = swarmStatus(o, observed.tasks[o.id] ?? [], observed.nodes);
    return { name: s.name, image: o.image, desiredImage: s.spec.image, state: stateOf(swarm), health: 'none', lastAction, swarm };
  });
}

/** Services that do not run all their replicas, each with its last failure: an environment with any is not converged. */
export function shortOfReplicas(services: readonly ServiceStatus[]): string[] {
  return services
    .filter((s) => s.swarm && s.swarm.replicas.running < s.swarm.replicas.desired)
    .map((s) => {
      const failure = s.swarm!.tasks.find((t) => t.error);
      return `${s.name}: ${s.swarm!.replicas.running}/${s.swarm!.replicas.desired} tasks running${failure ? ` (last failure: ${failure.error})` : ''}`;
    });
}
