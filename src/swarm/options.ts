import type { ContainerOptions, ServiceManifest } from '../manifest/types.js';

/** Compose names of container options, for refusals. */
const composeNames: Record<keyof ContainerOptions, string> = {
  user: 'user',
  workingDir: 'working_dir',
  hostname: 'hostname',
  domainname: 'domainname',
  readOnly: 'read_only',
  tmpfs: 'tmpfs',
  ulimits: 'ulimits',
  shmBytes: 'shm_size',
  logging: 'logging',
  stopSignal: 'stop_signal',
  extraHosts: 'extra_hosts',
  dns: 'dns',
  dnsSearch: 'dns_search',
  dnsOptions: 'dns_opt',
  stdinOpen: 'stdin_open',
  tty: 'tty',
  platform: 'platform',
  expose: 'expose',
  memoryReservationBytes: 'mem_reservation',
  cpuShares: 'cpu_shares',
  groupAdd: 'group_add',
  memorySwapBytes: 'memswap_limit',
  cpusetCpus: 'cpuset',
  cpuQuota: 'cpu_quota',
  cpuPeriod: 'cpu_period',
};

/**
 * Container options a Swarm service would silently drop. deploy.resources.reservations
 * also sets the engine's memory reservation and CPU shares; on Swarm those become
 * Resources.Reservations, so they count as honoured when they came from there.
 * `expose` only documents ports: Swarm tasks on an overlay reach every port anyway.
 */
export function unhonouredOptions(service: ServiceManifest): string[] {
  const options = service.spec.options ?? {};
  const reserved = service.spec.swarm?.reservations;
  const fromReservation: Partial<Record<keyof ContainerOptions, boolean>> = {
    memoryReservationBytes: reserved?.memoryBytes !== undefined && options.memoryReservationBytes === reserved.memoryBytes,
    cpuShares: reserved?.nanoCpus !== undefined && options.cpuShares === Math.round((reserved.nanoCpus / 1e9) * 1024),
    expose: true,
  };
  return (Object.keys(options) as (keyof ContainerOptions)[]).filter((k) => options[k] !== undefined && !fromReservation[k]).map((k) => composeNames[k]);
}
