import type Docker from 'dockerode';
import type { CreateContainer, HostSettings, MountSpec } from './types.js';

const NS_PER_MS = 1_000_000;

/** The Engine API create body for a resolved container spec: every field the spec carries reaches the engine here. */
export function createBody(spec: CreateContainer): Docker.ContainerCreateOptions {
  const ports = spec.ports.map((p) => ({ key: `${p.target}/${p.protocol}`, binding: { HostIp: p.hostIp, HostPort: p.published === null ? '' : String(p.published) } }));
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const { key, binding } of ports) (bindings[key] ??= []).push(binding);
  const [policy = 'no', retries] = spec.restart.split(':');
  const o = spec.options ?? {};
  // SELinux relabelling (:z, :Z) exists only in the Binds form; every other mount goes through Mounts.
  const binds = spec.mounts.filter((m) => m.selinux !== undefined && m.source !== null);
  const mounts = spec.mounts.filter((m) => !binds.includes(m));
  const hostNetwork = spec.host?.networkMode === 'host';
  return {
    Image: spec.image,
    ...(spec.command ? { Cmd: spec.command } : {}),
    ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: spec.labels,
    ExposedPorts: Object.fromEntries([...ports.map(({ key }) => key), ...(o.expose ?? [])].map((key) => [key, {}])),
    ...(spec.healthcheck ? { Healthcheck: healthConfig(spec.healthcheck) } : {}),
    StopTimeout: Math.ceil(spec.stopGraceMs / 1000),
    ...(o.stopSignal === undefined ? {} : { StopSignal: o.stopSignal }),
    ...(o.user === undefined ? {} : { User: o.user }),
    ...(o.workingDir === undefined ? {} : { WorkingDir: o.workingDir }),
    ...(o.hostname === undefined ? {} : { Hostname: o.hostname }),
    ...(o.domainname === undefined ? {} : { Domainname: o.domainname }),
    ...(o.stdinOpen === undefined ? {} : { OpenStdin: o.stdinOpen }),
    ...(o.tty === undefined ? {} : { Tty: o.tty }),
    HostConfig: {
      PortBindings: bindings,
      // An anonymous volume and a tmpfs have no Source.
      Mounts: mounts.map(mountOf),
      ...(binds.length ? { Binds: binds.map(bindOf) } : {}),
      Init: spec.init,
      RestartPolicy: { Name: policy, MaximumRetryCount: retries === undefined ? 0 : Number(retries) },
      ...(spec.resources.memoryBytes === null ? {} : { Memory: spec.resources.memoryBytes }),
      ...(spec.resources.nanoCpus === null ? {} : { NanoCpus: spec.resources.nanoCpus }),
      ...(spec.resources.pids === null ? {} : { PidsLimit: spec.resources.pids }),
      ...(o.memoryReservationBytes === undefined ? {} : { MemoryReservation: o.memoryReservationBytes }),
      ...(o.cpuShares === undefined ? {} : { CpuShares: o.cpuShares }),
      ...(o.readOnly === undefined ? {} : { ReadonlyRootfs: o.readOnly }),
      ...(o.tmpfs === undefined ? {} : { Tmpfs: o.tmpfs }),
      ...(o.ulimits === undefined ? {} : { Ulimits: Object.entries(o.ulimits).map(([Name, l]) => ({ Name, Soft: l.soft, Hard: l.hard })) }),
      ...(o.shmBytes === undefined ? {} : { ShmSize: o.shmBytes }),
      ...(o.logging === undefined ? {} : { LogConfig: { Type: o.logging.driver, Config: o.logging.options } }),
      ...(o.extraHosts === undefined ? {} : { ExtraHosts: o.extraHosts }),
      ...(o.dns === undefined ? {} : { Dns: o.dns }),
      ...(o.dnsSearch === undefined ? {} : { DnsSearch: o.dnsSearch }),
      ...(o.dnsOptions === undefined ? {} : { DnsOptions: o.dnsOptions }),
      ...(o.groupAdd === undefined ? {} : { GroupAdd: o.groupAdd }),
      ...(o.memorySwapBytes === undefined ? {} : { MemorySwap: o.memorySwapBytes }),
      ...(o.cpusetCpus === undefined ? {} : { CpusetCpus: o.cpusetCpus }),
      ...(o.cpuQuota === undefined ? {} : { CpuQuota: o.cpuQuota }),
      ...(o.cpuPeriod === undefined ? {} : { CpuPeriod: o.cpuPeriod }),
      ...hostConfig(spec.host ?? {}),
      NetworkMode: hostNetwork ? 'host' : spec.network,
    },
    // The host's network stack has no endpoints and no aliases (the loader refuses ports and networks with it).
    ...(hostNetwork ? {} : { NetworkingConfig: { EndpointsConfig: { [spec.network]: { Aliases: spec.aliases } } } }),
  } as Docker.ContainerCreateOptions;
}

/** Host-level options the operator's policy allowed, as HostConfig fields; none when unset. */
function hostConfig(h: HostSettings): Record<string, unknown> {
  return {
    ...(h.privileged ? { Privileged: true } : {}),
    ...(h.capAdd ? { CapAdd: h.capAdd } : {}),
    ...(h.capDrop ? { CapDrop: h.capDrop } : {}),
    ...(h.devices ? { Devices: h.devices.map((d) => ({ PathOnHost: d.host, PathInContainer: d.container, CgroupPermissions: d.permissions })) } : {}),
    ...(h.pid ? { PidMode: h.pid } : {}),
    ...(h.ipc ? { IpcMode: h.ipc } : {}),
    ...(h.securityOpt ? { SecurityOpt: h.securityOpt } : {}),
    ...(h.sysctls ? { Sysctls: h.sysctls } : {}),
  };
}

function mountOf(m: MountSpec): Docker.MountSettings {
  const mount: Record<string, unknown> = { Type: m.type, Target: m.target, ReadOnly: m.readOnly, ...(m.source === null ? {} : { Source: m.source }) };
  if (m.noCopy) mount.VolumeOptions = { NoCopy: true };
  if (m.propagation) mount.BindOptions = { Propagation: m.propagation };
  if (m.tmpfsBytes !== undefined || m.tmpfsMode !== undefined) {
    mount.TmpfsOptions = { ...(m.tmpfsBytes === undefined ? {} : { SizeBytes: m.tmpfsBytes }), ...(m.tmpfsMode === undefined ? {} : { Mode: m.tmpfsMode }) };
  }
  return mount as unknown as Docker.MountSettings;
}

function bindOf(m: MountSpec): string {
  const options = [m.readOnly ? 'ro' : 'rw', m.selinux!, ...(m.noCopy ? ['nocopy'] : []), ...(m.propagation ? [m.propagation] : [])];
  return `${m.source}:${m.target}:${options.join(',')}`;
}

function healthConfig(hc: NonNullable<CreateContainer['healthcheck']>): Docker.HealthConfig {
  const timings = { Interval: hc.intervalMs * NS_PER_MS, Timeout: hc.timeoutMs * NS_PER_MS, Retries: hc.retries, StartPeriod: hc.startPeriodMs * NS_PER_MS };
  if (hc.test === null) return timings; // keep the image's test
  return hc.test[0] === 'NONE' ? { Test: ['NONE'] } : { Test: hc.test, ...timings };
}
