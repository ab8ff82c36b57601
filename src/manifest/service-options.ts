import type { Report } from './normalize-service.js';
import { describeValue } from './problem.js';
import { parseSize } from './size.js';
import type { ContainerOptions } from './types.js';

/** The compose fields that map one-to-one onto container options. */
export interface RawOptions {
  user?: string | number;
  working_dir?: string;
  hostname?: string;
  domainname?: string;
  read_only?: boolean;
  tmpfs?: string | string[];
  ulimits?: Record<string, number | string | { soft: number | string; hard: number | string }>;
  shm_size?: number | string;
  logging?: { driver?: string; options?: Record<string, string | number | boolean | null> | null };
  stop_signal?: string;
  extra_hosts?: string[] | Record<string, string | string[]>;
  dns?: string | string[];
  dns_search?: string | string[];
  dns_opt?: string[];
  stdin_open?: boolean;
  tty?: boolean;
  platform?: string;
  expose?: (string | number)[];
  mem_reservation?: number | string;
  cpu_shares?: number | string;
  group_add?: (string | number)[];
  memswap_limit?: number | string;
  cpuset?: string;
  cpu_quota?: number | string;
  cpu_period?: number | string;
  deploy?: { resources?: { reservations?: { cpus?: number | string; memory?: number | string } } };
}

const list = (value: string | string[] | undefined) => (value === undefined ? undefined : Array.isArray(value) ? value : [value]);

function size(value: number | string | undefined, where: (string | number)[], report: Report): number | undefined {
  if (value === undefined) return undefined;
  const bytes = parseSize(value);
  if (bytes === undefined) report(where, `is not a size like 64m or 1GiB (got ${describeValue(value)})`);
  return bytes;
}

function expose(values: (string | number)[], report: Report): string[] {
  const keys: string[] = [];
  values.forEach((value, i) => {
    const match = /^([0-9]{1,5})(?:-([0-9]{1,5}))?(?:\/(tcp|udp|sctp))?$/.exec(String(value));
    const start = Number(match?.[1]);
    const end = match?.[2] === undefined ? start : Number(match[2]);
    if (!match || start < 1 || end > 65535 || end < start || end - start >= 1000) {
      report(['expose', i], `must be a container port or range like "3000" or "8000-8001/udp" (got ${describeValue(value)})`);
      return;
    }
    for (let port = start; port <= end; port++) keys.push(`${port}/${match[3] ?? 'tcp'}`);
  });
  return [...new Set(keys)].sort();
}

function ulimits(raw: NonNullable<RawOptions['ulimits']>, report: Report): Record<string, { soft: number; hard: number }> {
  const out: Record<string, { soft: number; hard: number }> = {};
  for (const [name, value] of Object.entries(raw)) {
    const soft = Number(typeof value === 'object' ? value.soft : value);
    const hard = Number(typeof value === 'object' ? value.hard : value);
    if (!Number.isInteger(soft) || !Number.isInteger(hard)) report(['ulimits', name], `must be a whole number or { soft, hard } (got ${describeValue(value)})`);
    else if (soft > hard && hard !== -1) report(['ulimits', name], `soft limit ${soft} is above the hard limit ${hard}`);
    else out[name] = { soft, hard };
  }
  return out;
}

function extraHosts(raw: NonNullable<RawOptions['extra_hosts']>, report: Report): string[] {
  const entries: string[] = [];
  if (Array.isArray(raw)) {
    raw.forEach((entry, i) => {
      // compose accepts HOST:IP and HOST=IP; the engine wants HOST:IP.
      const match = /^([^:=\s]+)[:=](.+)$/.exec(entry);
      if (!match) report(['extra_hosts', i], `must be HOST:IP (got ${describeValue(entry)})`);
      else entries.push(`${match[1]}:${match[2]!.replace(/^\[(.*)\]$/, '$1')}`);
    });
  } else {
    for (const [host, ips] of Object.entries(raw)) for (const ip of Array.isArray(ips) ? ips : [ips]) entries.push(`${host}:${ip}`);
  }
  return entries;
}

/** Only the options the manifest sets; undefined when it sets none (so that old spec hashes stay put). */
export function normalizeOptions(raw: RawOptions, report: Report): ContainerOptions | undefined {
  const reservations = raw.deploy?.resources?.reservations;
  const cpuShares = raw.cpu_shares !== undefined ? Number(raw.cpu_shares) : reservations?.cpus !== undefined ? Math.round(Number(reservations.cpus) * 1024) : undefined;
  const options: ContainerOptions = {
    user: raw.user === undefined ? undefined : String(raw.user),
    workingDir: raw.working_dir,
    hostname: raw.hostname,
    domainname: raw.domainname,
    readOnly: raw.read_only,
    tmpfs:
      raw.tmpfs === undefined
        ? undefined
        : Object.fromEntries(
            list(raw.tmpfs)!.map((entry) => {
              const colon = entry.indexOf(':');
              return colon < 0 ? [entry, ''] : [entry.slice(0, colon), entry.slice(colon + 1)];
            }),
          ),
    ulimits: raw.ulimits === undefined ? undefined : ulimits(raw.ulimits, report),
    shmBytes: size(raw.shm_size, ['shm_size'], report),
    logging:
      raw.logging === undefined
        ? undefined
        : {
            driver: raw.logging.driver ?? 'json-file',
            options: Object.fromEntries(Object.entries(raw.logging.options ?? {}).filter(([, v]) => v !== null).map(([k, v]) => [k, String(v)])),
          },
    stopSignal: raw.stop_signal,
    extraHosts: raw.extra_hosts === undefined ? undefined : extraHosts(raw.extra_hosts, report),
    dns: list(raw.dns),
    dnsSearch: list(raw.dns_search),
    dnsOptions: raw.dns_opt,
    stdinOpen: raw.stdin_open,
    tty: raw.tty,
    platform: raw.platform,
    expose: raw.expose === undefined ? undefined : expose(raw.expose, report),
    memoryReservationBytes: size(raw.mem_reservation ?? reservations?.memory, raw.mem_reservation !== undefined ? ['mem_reservation'] : ['deploy', 'resources', 'reservations', 'memory'], report),
    cpuShares,
    groupAdd: raw.group_add?.map(String),
    memorySwapBytes: raw.memswap_limit === undefined ? undefined : String(raw.memswap_limit) === '-1' ? -1 : size(raw.memswap_limit, ['memswap_limit'], report),
    cpusetCpus: raw.cpuset,
    cpuQuota: raw.cpu_quota === undefined ? undefined : Number(raw.cpu_quota),
    cpuPeriod: raw.cpu_period === undefined ? undefined : Number(raw.cpu_period),
  };
  for (const key of Object.keys(options) as (keyof ContainerOptions)[]) if (options[key] === undefined) delete options[key];
  return Object.keys(options).length === 0 ? undefined : options;
}
