import { labels } from '../../src/runtime/labels.js';
import type { SwarmMode } from '../../src/manifest/types.js';
import type { SwarmFileKind } from '../../src/swarm/swarm-files.js';
import type { ObservedService, ServiceBody, SwarmPort, SwarmTask } from '../../src/swarm/types.js';

interface Stored {
  id: string;
  body: ServiceBody;
  version: number;
  update: ObservedService['update'];
}

const containerSpec = (body: ServiceBody) => body.TaskTemplate.ContainerSpec as { Image: string; Env?: string[]; Labels?: Record<string, string> };
type Mode = { Replicated?: { Replicas: number }; ReplicatedJob?: { TotalCompletions: number }; Global?: object; GlobalJob?: object };
const modeOf = (body: ServiceBody): SwarmMode => {
  const m = body.Mode as Mode;
  return m.Global ? 'global' : m.GlobalJob ? 'global-job' : m.ReplicatedJob ? 'replicated-job' : 'replicated';
};
const replicasOf = (body: ServiceBody) => (body.Mode as Mode).Replicated?.Replicas ?? (body.Mode as Mode).ReplicatedJob?.TotalCompletions ?? 0;
/** Tasks one node runs for a service: replicas, or one for global modes (a one-node fake Swarm). */
const taskCount = (body: ServiceBody) => (modeOf(body).startsWith('global') ? 1 : replicasOf(body));
const fileIds = (body: ServiceBody) => {
  const c = body.TaskTemplate.ContainerSpec as { Secrets?: { SecretID: string }[]; Configs?: { ConfigID: string }[] };
  return [...(c.Secrets ?? []).map((r) => r.SecretID), ...(c.Configs ?? []).map((r) => r.ConfigID)];
};

/**
 * An in-memory Swarm manager that records calls. Updates converge at once,
 * unless the new spec hash is in `failing`: then Swarm "rolls back" (the old
 * spec returns, a failed task of the new one stays in the history).
 */
export class FakeSwarm implements SwarmPort {
  readonly host = 'fake://swarm';
  readonly calls: string[] = [];
  readonly services = new Map<string, Stored>();
  readonly tasks: SwarmTask[] = [];
  readonly failing = new Set<string>();
  readonly networks = new Set<string>();
  /** Secrets and configs by name (the fake keeps values to assert on; the real port never reads them back). */
  readonly files = new Map<string, { kind: SwarmFileKind; id: string; data: string | Buffer; labels: Record<string, string> }>();
  manager = true;
  private seq = 0;

  async requireManager(): Promise<{ nodeId: string }> {
    if (!this.manager) throw new Error(`docker at ${this.host} is not in a Swarm (inactive)`);
    return { nodeId: 'node1' };
  }

  private observed(s: Stored): ObservedService {
    const spec = containerSpec(s.body);
    return {
      id: s.id,
      name: s.body.Name,
      version: s.version,
      labels: s.body.Labels,
      spec: JSON.parse(s.body.Labels[labels.spec] ?? 'null') ?? undefined,
      specHash: s.body.Labels[labels.specHash] ?? '',
      image: spec.Image,
      mode: modeOf(s.body),
      replicas: replicasOf(s.body),
      env: spec.Env ?? [],
      update: s.update,
    };
  }

  async listServices(filter: Record<string, string>): Promise<ObservedService[]> {
    return [...this.services.values()].filter((s) => Object.entries(filter).every(([k, v]) => s.body.Labels[k] === v)).map((s) => this.observed(s));
  }

  async inspectService(id: string): Promise<ObservedService | undefined> {
    const s = this.services.get(id);
    return s && this.observed(s);
  }

  async listTasks(serviceId: string): Promise<SwarmTask[]> {
    return this.tasks.filter((t) => t.serviceId === serviceId);
  }

  /** Replaces the running tasks of a service with `replicas` of its current spec. */
  private runTasks(s: Stored): void {
    for (const t of this.tasks) if (t.serviceId === s.id && t.desiredState === 'running') Object.assign(t, { desiredState: 'shutdown', state: 'shutdown' });
    const spec = containerSpec(s.body);
    const state = modeOf(s.body).endsWith('-job') ? 'complete' : 'running';
    for (let i = 1; i <= taskCount(s.body); i++) this.tasks.push(this.task(s.id, spec.Labels?.[labels.specHash] ?? '', spec.Image, state, null));
  }

  private task(serviceId: string, specHash: string, image: string, state: SwarmTask['state'], error: string | null): SwarmTask {
    const n = ++this.seq;
    return { id: `task${n}`, serviceId, nodeId: 'node1', slot: n, state, desiredState: state === 'running' || state === 'complete' ? state : 'shutdown', message: state, error, containerId: `c${n}`, exitCode: error ? 1 : null, specHash, image, createdAt: `2026-01-01T00:00:${String(n).padStart(2, '0')}Z` };
  }

  async createService(body: ServiceBody): Promise<string> {
    this.calls.push(`create ${body.Name}`);
    const s: Stored = { id: `svc-${body.Name}`, body, version: 1, update: null };
    this.services.set(s.id, s);
    this.runTasks(s);
    return s.id;
  }

  async updateService(id: string, body: ServiceBody): Promise<void> {
    this.calls.push(`update ${body.Name}`);
    const s = this.services.get(id)!;
    const hash = containerSpec(body).Labels?.[labels.specHash] ?? '';
    const at = `2026-01-01T00:01:${String(++this.seq).padStart(2, '0')}Z`;
    s.version += 1;
    if (this.failing.has(hash)) {
      this.tasks.push(this.task(id, hash, containerSpec(body).Image, 'failed', 'task: non-zero exit (143): dockerexec: unhealthy container'));
      s.update = { state: 'rollback_completed', message: 'rollback completed', startedAt: at, completedAt: at };
      s.version += 1;
      return;
    }
    s.body = body;
    s.update = { state: 'completed', message: 'update completed', startedAt: at, completedAt: at };
    this.runTasks(s);
  }

  async removeService(id: string): Promise<void> {
    this.calls.push(`remove ${this.services.get(id)?.body.Name ?? id}`);
    this.services.delete(id);
  }

  async ensureOverlayNetwork(name: string): Promise<void> {
    this.networks.add(name);
  }

  async ensureFile(kind: SwarmFileKind, name: string, data: string | Buffer, fileLabels: Record<string, string>): Promise<string> {
    const found = this.files.get(name);
    if (found) return found.id;
    this.calls.push(`create ${kind} ${name}`);
    this.files.set(name, { kind, id: `${kind}-${name}`, data, labels: fileLabels });
    return `${kind}-${name}`;
  }

  async listFiles(filter: Record<string, string>): Promise<{ kind: SwarmFileKind; id: string; name: string }[]> {
    return [...this.files].filter(([, f]) => Object.entries(filter).every(([k, v]) => f.labels[k] === v)).map(([name, f]) => ({ kind: f.kind, id: f.id, name }));
  }

  async removeFile(kind: SwarmFileKind, id: string): Promise<boolean> {
    if ([...this.services.values()].some((s) => fileIds(s.body).includes(id))) return false;
    const name = [...this.files].find(([, f]) => f.id === id)?.[0];
    if (name) this.files.delete(name);
    this.calls.push(`remove ${kind} ${name ?? id}`);
    return true;
  }

  async taskLogsTail(task: SwarmTask): Promise<string> {
    return `log of ${task.id}\nhealth will fail`;
  }

  async listNodes(): Promise<{ id: string; hostname: string }[]> {
    return [{ id: 'node1', hostname: 'manager-1' }];
  }

  /** `docker service scale` by hand: drift. */
  scaleByHand(id: string, replicas: number): void {
    const s = this.services.get(id)!;
    s.body = { ...s.body, Mode: { Replicated: { Replicas: replicas } } };
    this.runTasks(s);
  }
}
