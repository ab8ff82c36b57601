import type Docker from 'dockerode';
import { containerStates } from './types.js';
import type { ContainerDetails, ContainerState, ContainerSummary, HealthState } from './types.js';

function toState(state: string | undefined): ContainerState {
  const lower = (state ?? '').toLowerCase();
  return (containerStates as readonly string[]).includes(lower) ? (lower as ContainerState) : 'dead';
}

function healthFromStatus(status: string): HealthState {
  if (status.includes('(healthy)')) return 'healthy';
  if (status.includes('(unhealthy)')) return 'unhealthy';
  if (status.includes('(health: starting)')) return 'starting';
  return 'none';
}

function exitCodeFromStatus(state: ContainerState, status: string): number | null | undefined {
  if (state !== 'exited') return state === 'running' || state === 'created' || state === 'paused' ? null : undefined;
  const code = /^Exited \((-?\d+)\)/.exec(status)?.[1];
  return code === undefined ? undefined : Number(code);
}

export function toSummary(c: Docker.ContainerInfo): ContainerSummary {
  // Beware: once its tag moves to another image, the list API gives the image id as `Image`.
  const name = (c.Names[0] ?? c.Id).replace(/^\//, '');
  const state = toState(c.State);
  return { id: c.Id, name, image: c.Image, imageId: c.ImageID, state, health: healthFromStatus(c.Status), labels: c.Labels ?? {}, exitCode: exitCodeFromStatus(state, c.Status ?? '') };
}

export function toDetails(info: Docker.ContainerInspectInfo): ContainerDetails {
  const state = toState(info.State.Status);
  const health = info.State.Health?.Status;
  const { RestartPolicy: policy, Memory, NanoCpus, PidsLimit } = info.HostConfig as Docker.HostConfig;
  const name = policy?.Name || 'no';
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    image: info.Config.Image,
    imageId: info.Image,
    state,
    health: health === 'starting' || health === 'healthy' || health === 'unhealthy' ? health : 'none',
    labels: info.Config.Labels ?? {},
    restartCount: info.RestartCount,
    exitCode: state === 'running' || state === 'created' || state === 'paused' ? null : info.State.ExitCode,
    startedAt: info.State.StartedAt && !info.State.StartedAt.startsWith('0001-') ? info.State.StartedAt : null,
    restartPolicy: name === 'on-failure' && policy?.MaximumRetryCount ? `on-failure:${policy.MaximumRetryCount}` : name,
    memoryBytes: Memory || null,
    nanoCpus: NanoCpus || null,
    pidsLimit: PidsLimit && PidsLimit > 0 ? PidsLimit : null,
  };
}

/** Splits the engine's 8-byte-header frames (stream, 0, 0, 0, size BE) back into text. */
export function demultiplex(raw: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length) {
    const size = raw.readUInt32BE(at + 4);
    parts.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}
