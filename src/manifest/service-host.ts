import type { Report } from './normalize-service.js';
import { describeValue } from './problem.js';
import type { ContainerSpec, DeviceMapping } from './types.js';

/** The host-level compose fields stagecoach honours where the operator's policy allows host options. */
export interface RawHostOptions {
  privileged?: boolean;
  cap_add?: string[];
  cap_drop?: string[];
  devices?: string[];
  network_mode?: string;
  pid?: string;
  ipc?: string;
  security_opt?: string[];
  sysctls?: Record<string, string | number | boolean> | string[];
  ports?: unknown[];
  networks?: unknown;
  hostname?: string;
}

type HostFields = Pick<ContainerSpec, 'privileged' | 'capAdd' | 'capDrop' | 'devices' | 'networkMode' | 'pid' | 'ipc' | 'securityOpt' | 'sysctls'>;

/** compose writes capabilities with or without CAP_; the engine takes either, we keep compose's spelling sorted. */
const caps = (values: string[] | undefined) => (values === undefined || values.length === 0 ? undefined : [...new Set(values)].sort());

function devices(values: string[], report: Report): DeviceMapping[] {
  const out: DeviceMapping[] = [];
  values.forEach((value, i) => {
    const [host = '', container = host, permissions = 'rwm', ...rest] = value.split(':');
    if (!host.startsWith('/') || !container.startsWith('/') || !/^[rwm]{1,3}$/.test(permissions) || rest.length > 0) {
      report(['devices', i], `must be /dev/HOST[:/dev/CONTAINER[:rwm]] (got ${describeValue(value)})`);
    } else out.push({ host, container, permissions });
  });
  return out;
}

function sysctls(raw: NonNullable<RawHostOptions['sysctls']>, report: Report): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(raw)) {
    raw.forEach((entry, i) => {
      const eq = entry.indexOf('=');
      if (eq <= 0) report(['sysctls', i], `must be NAME=VALUE (got ${describeValue(entry)})`);
      else out[entry.slice(0, eq).trim()] = entry.slice(eq + 1).trim();
    });
  } else for (const [name, value] of Object.entries(raw)) out[name] = String(value);
  return out;
}

/**
 * privileged, cap_add, cap_drop, devices, network_mode/pid/ipc: host,
 * security_opt and sysctls: only those the manifest sets (so old spec hashes
 * stay put). Whether they may run is the operator policy's call (src/policy/).
 * network_mode host shares the host's network stack: ports, networks and
 * hostname have no meaning there (the engine refuses or ignores them), so they are refused here.
 */
export function normalizeHostOptions(raw: RawHostOptions, report: Report): HostFields {
  const out: HostFields = {};
  if (raw.privileged === true) out.privileged = true;
  const add = caps(raw.cap_add);
  if (add) out.capAdd = add;
  const drop = caps(raw.cap_drop);
  if (drop) out.capDrop = drop;
  if (raw.devices?.length) out.devices = devices(raw.devices, report);
  if (raw.network_mode === 'host') {
    out.networkMode = 'host';
    const why = 'with network_mode host the container uses the host network stack directly';
    if (raw.ports?.length) report(['ports'], `is refused ${why}: its ports are the host's ports already, nothing is published (drop ports, or drop network_mode)`, 'key');
    if (raw.networks !== undefined) report(['networks'], `is refused ${why}: it joins no other network`, 'key');
    if (raw.hostname !== undefined) report(['hostname'], `is refused ${why}: it keeps the host's name`, 'key');
  }
  for (const key of ['pid', 'ipc'] as const) {
    const value = raw[key];
    if (value === undefined) continue;
    if (value === 'host') out[key] = 'host';
    else report([key], `only "host" is supported: ${key} ${describeValue(value)} would share another container's namespace, which stagecoach does not track (got ${describeValue(value)})`);
  }
  if (raw.security_opt?.length) out.securityOpt = [...raw.security_opt];
  if (raw.sysctls !== undefined) {
    const values = sysctls(raw.sysctls, report);
    if (Object.keys(values).length) out.sysctls = values;
  }
  return out;
}
