import type Docker from 'dockerode';
import type { CreateContainer } from './types.js';

const NS_PER_MS = 1_000_000;

/** The Engine API create body for a resolved container spec: every field the spec carries reaches the engine here. */
export function createBody(spec: CreateContainer): Docker.ContainerCreateOptions {
  const ports = spec.ports.map((p) => ({ key: `${p.target}/${p.protocol}`, binding: { HostIp: p.hostIp, HostPort: p.published === null ? '' : String(p.published) } }));
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const { key, binding } of ports) (bindings[key] ??= []).push(binding);
  const [policy = 'no', retries] = spec.restart.split(':');
  return {
    Image: spec.image,
    ...(spec.command ? { Cmd: spec.command } : {}),
    ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: spec.labels,
    ExposedPorts: Object.fromEntries(ports.map(({ key }) => [key, {}])),
    ...(spec.healthcheck ? { Healthcheck: healthConfig(spec.healthcheck) } : {}),
    StopTimeout: Math.ceil(spec.stopGraceMs / 1000),
    HostConfig: {
      PortBindings: bindings,
      // An anonymous volume has no Source.
      Mounts: spec.mounts.map((m) => ({ Type: m.type, Target: m.target, ReadOnly: m.readOnly, ...(m.source === null ? {} : { Source: m.source }) }) as Docker.MountSettings),
      Init: spec.init,
      RestartPolicy: { Name: policy, MaximumRetryCount: retries === undefined ? 0 : Number(retries) },
      ...(spec.resources.memoryBytes === null ? {} : { Memory: spec.resources.memoryBytes }),
      ...(spec.resources.nanoCpus === null ? {} : { NanoCpus: spec.resources.nanoCpus }),
      ...(spec.resources.pids === null ? {} : { PidsLimit: spec.resources.pids }),
      NetworkMode: spec.network,
    },
    NetworkingConfig: { EndpointsConfig: { [spec.network]: { Aliases: spec.aliases } } },
  };
}

function healthConfig(hc: NonNullable<CreateContainer['healthcheck']>): Docker.HealthConfig {
  const timings = { Interval: hc.intervalMs * NS_PER_MS, Timeout: hc.timeoutMs * NS_PER_MS, Retries: hc.retries, StartPeriod: hc.startPeriodMs * NS_PER_MS };
  if (hc.test === null) return timings; // keep the image's test
  return hc.test[0] === 'NONE' ? { Test: ['NONE'] } : { Test: hc.test, ...timings };
}
