import type Docker from 'dockerode';
import { DockerError } from '../errors.js';
import type { ContainerSpec } from '../manifest/types.js';
import { labels } from '../runtime/labels.js';
import { demultiplex } from '../runtime/docker-mapping.js';
import { engineMessage, errorText, isConnectionError, statusOf } from '../runtime/docker-errors.js';
import type { SwarmMode } from '../manifest/types.js';
import type { SwarmFileKind } from './swarm-files.js';
import type { ObservedService, ServiceBody, SwarmPort, SwarmTask, TaskState, UpdateState } from './types.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- the Engine API's service and task JSON, read defensively */
type Json = any;

function parseSpecLabel(text: string | undefined): ContainerSpec | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as ContainerSpec;
  } catch {
    return undefined;
  }
}

function modeOf(mode: Json): SwarmMode {
  if (mode?.Global) return 'global';
  if (mode?.GlobalJob) return 'global-job';
  if (mode?.ReplicatedJob) return 'replicated-job';
  return 'replicated';
}

function toService(s: Json): ObservedService {
  const spec = s.Spec ?? {};
  const labelSet: Record<string, string> = spec.Labels ?? {};
  const container = spec.TaskTemplate?.ContainerSpec ?? {};
  const u = s.UpdateStatus;
  return {
    id: s.ID,
    name: spec.Name,
    version: s.Version?.Index ?? 0,
    labels: labelSet,
    spec: parseSpecLabel(labelSet[labels.spec]),
    specHash: labelSet[labels.specHash] ?? '',
    image: container.Image ?? '',
    mode: modeOf(spec.Mode),
    replicas: spec.Mode?.Replicated?.Replicas ?? spec.Mode?.ReplicatedJob?.TotalCompletions ?? 0,
    env: container.Env ?? [],
    update: u?.State ? { state: u.State as UpdateState, message: u.Message ?? '', startedAt: u.StartedAt ?? null, completedAt: u.CompletedAt ?? null } : null,
  };
}

function toTask(t: Json): SwarmTask {
  const status = t.Status ?? {};
  return {
    id: t.ID,
    serviceId: t.ServiceID,
    nodeId: t.NodeID ?? '',
    slot: t.Slot ?? null,
    state: status.State as TaskState,
    desiredState: t.DesiredState as TaskState,
    message: status.Message ?? '',
    error: status.Err ?? null,
    containerId: status.ContainerStatus?.ContainerID ?? null,
    exitCode: status.ContainerStatus?.ExitCode ?? null,
    specHash: t.Spec?.ContainerSpec?.Labels?.[labels.specHash] ?? '',
    image: t.Spec?.ContainerSpec?.Image ?? '',
    createdAt: t.CreatedAt ?? '',
  };
}

/** The Swarm port over dockerode; the client (already pointed at the target) is passed in. */
export class DockerSwarm implements SwarmPort {
  constructor(
    private readonly docker: Docker,
    readonly host: string,
  ) {}

  async requireManager(): Promise<{ nodeId: string }> {
    const info = await this.call('read swarm state', () => this.docker.info());
    const swarm = info.Swarm ?? {};
    if (swarm.LocalNodeState !== 'active' || !swarm.ControlAvailable) {
      const state = swarm.LocalNodeState === 'active' ? 'a Swarm worker, not a manager' : `not in a Swarm (${swarm.LocalNodeState ?? 'unknown'})`;
      throw new DockerError(`docker at ${this.host} is ${state}, but target.mode is swarm: run \`docker swarm init\` there (or point target.docker at a manager), or set target.mode: engine`);
    }
    return { nodeId: swarm.NodeID };
  }

  async listServices(filter: Record<string, string>): Promise<ObservedService[]> {
    const label = Object.entries(filter).map(([k, v]) => `${k}=${v}`);
    const list = await this.call('list services', () => this.docker.listServices({ filters: { label } }));
    return (list as Json[]).map(toService);
  }

  async inspectService(id: string): Promise<ObservedService | undefined> {
    try {
      return toService(await this.docker.getService(id).inspect());
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw this.error(`inspect service ${id}`, err);
    }
  }

  async listTasks(serviceId: string): Promise<SwarmTask[]> {
    const list = await this.call(`list tasks of service ${serviceId}`, () => this.docker.listTasks({ filters: { service: [serviceId] } }));
    return (list as Json[]).map(toTask);
  }

  async createService(body: ServiceBody): Promise<string> {
    const service = await this.call(`create service ${body.Name}`, () => this.docker.createService({ _body: body } as Json));
    return service.id as string;
  }

  async updateService(id: string, body: ServiceBody): Promise<void> {
    // The engine replaces the whole spec and wants the version it replaces; another writer in between means "out of sequence": read again.
    for (let attempt = 1; ; attempt++) {
      const current = await this.call(`inspect service ${body.Name}`, () => this.docker.getService(id).inspect());
      try {
        await this.docker.getService(id).update({ _query: { version: current.Version.Index }, _body: body } as Json);
        return;
      } catch (err) {
        if (attempt < 5 && /out of sequence/i.test(engineMessage(err))) continue;
        throw this.error(`update service ${body.Name}`, err);
      }
    }
  }

  async removeService(id: string): Promise<void> {
    try {
      await this.docker.getService(id).remove();
    } catch (err) {
      if (statusOf(err) !== 404) throw this.error(`remove service ${id}`, err);
    }
  }

  async ensureOverlayNetwork(name: string, networkLabels: Record<string, string>): Promise<void> {
    const existing = await this.call(`list networks named ${name}`, () => this.docker.listNetworks({ filters: { name: [name] } }));
    const found = existing.find((n) => n.Name === name);
    if (found) {
      if (found.Driver !== 'overlay' || !found.Attachable) throw new DockerError(`docker at ${this.host}: network ${name} exists as ${found.Driver}${found.Attachable ? '' : ', not attachable'}; a Swarm environment needs an attachable overlay network of that name (remove the old one once nothing uses it)`);
      return;
    }
    try {
      await this.docker.createNetwork({ Name: name, Driver: 'overlay', Attachable: true, Labels: networkLabels, CheckDuplicate: true });
    } catch (err) {
      if (statusOf(err) !== 409) throw this.error(`create overlay network ${name}`, err);
    }
  }

  async ensureFile(kind: SwarmFileKind, name: string, data: string | Buffer, fileLabels: Record<string, string>): Promise<string> {
    const list = (): Promise<Json[]> => (kind === 'secret' ? this.docker.listSecrets({ filters: { name: [name] } }) : this.docker.listConfigs({ filters: { name: [name] } }));
    const found = ((await this.call(`list ${kind}s named ${name}`, list)) as Json[]).find((o) => o.Spec?.Name === name);
    if (found) return found.ID as string;
    const body = { Name: name, Labels: fileLabels, Data: Buffer.from(data).toString('base64') };
    try {
      const created: Json = kind === 'secret' ? await this.docker.createSecret(body) : await this.docker.createConfig(body);
      return (created.id ?? created.ID) as string;
    } catch (err) {
      // The error never carries the body (the value), only the engine's message.
      if (statusOf(err) === 409) return this.ensureFile(kind, name, data, fileLabels);
      throw this.error(`create ${kind} ${name}`, err);
    }
  }

  async listFiles(filter: Record<string, string>): Promise<{ kind: SwarmFileKind; id: string; name: string }[]> {
    const label = Object.entries(filter).map(([k, v]) => `${k}=${v}`);
    const secrets = (await this.call('list secrets', () => this.docker.listSecrets({ filters: { label } }))) as Json[];
    const configs = (await this.call('list configs', () => this.docker.listConfigs({ filters: { label } }))) as Json[];
    return [...secrets.map((o) => ({ kind: 'secret' as const, id: o.ID, name: o.Spec?.Name })), ...configs.map((o) => ({ kind: 'config' as const, id: o.ID, name: o.Spec?.Name }))];
  }

  async removeFile(kind: SwarmFileKind, id: string): Promise<boolean> {
    try {
      await (kind === 'secret' ? this.docker.getSecret(id).remove() : this.docker.getConfig(id).remove());
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return true;
      if (/in use/i.test(engineMessage(err))) return false;
      throw this.error(`remove ${kind} ${id}`, err);
    }
  }

  async taskLogsTail(task: SwarmTask, lines: number): Promise<string> {
    try {
      const raw = task.containerId
        ? await this.docker.getContainer(task.containerId).logs({ stdout: true, stderr: true, tail: lines, follow: false })
        : await (this.docker.getTask(task.id) as Json).logs({ stdout: true, stderr: true, tail: lines, follow: false });
      return demultiplex(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
    } catch (err) {
      return `(no logs: ${engineMessage(err)})`;
    }
  }

  async listNodes(): Promise<{ id: string; hostname: string }[]> {
    const nodes = await this.call('list nodes', () => this.docker.listNodes());
    return (nodes as Json[]).map((n) => ({ id: n.ID, hostname: n.Description?.Hostname ?? n.ID }));
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.error(what, err);
    }
  }

  private error(what: string, err: unknown): DockerError {
    const transient = isConnectionError(err);
    return new DockerError(`docker at ${this.host}: cannot ${what}: ${transient ? errorText(err) : engineMessage(err)}`, { cause: err, transient });
  }
}
