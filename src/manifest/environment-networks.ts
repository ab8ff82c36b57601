import { shortHash, specHash } from './hash.js';
import type { NetworkDefinition } from './types.js';

export interface RawNetwork {
  external?: boolean;
  name?: string;
  internal?: boolean;
  driver?: 'bridge';
  driver_opts?: Record<string, string | number | boolean>;
  attachable?: boolean;
  labels?: Record<string, string | number | boolean> | string[];
  ipam?: { driver?: 'default'; config?: { subnet: string; gateway?: string; ip_range?: string }[] };
}

/** Docker name of an environment-level network that stagecoach owns. */
export function ownedNetworkName(env: string, key: string): string {
  return `stagecoach-${env}-${key}`;
}

export function normalizeNetworks(env: string, raw: Record<string, RawNetwork | null>): Record<string, NetworkDefinition> {
  const out: Record<string, NetworkDefinition> = {};
  for (const [key, net] of Object.entries(raw)) {
    const labels = Array.isArray(net?.labels)
      ? Object.fromEntries(net.labels.map((l) => (l.includes('=') ? [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] : [l, ''])))
      : Object.fromEntries(Object.entries(net?.labels ?? {}).map(([k, v]) => [k, String(v)]));
    const shape = {
      internal: net?.internal ?? false,
      driverOpts: Object.fromEntries(Object.entries(net?.driver_opts ?? {}).map(([k, v]) => [k, String(v)])),
      labels,
      subnets: (net?.ipam?.config ?? []).map((c) => ({ subnet: c.subnet, ...(c.gateway ? { gateway: c.gateway } : {}), ...(c.ip_range ? { ipRange: c.ip_range } : {}) })),
    };
    const external = net?.external ?? false;
    out[key] = { name: external ? (net?.name ?? key) : ownedNetworkName(env, key), external, ...shape, ...(external ? {} : { digest: shortHash(specHash(shape)) }) };
  }
  return out;
}
