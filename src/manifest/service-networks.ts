import type { Report } from './normalize-service.js';
import { describeValue } from './problem.js';
import type { EnvironmentManifest, NetworkAttachment } from './types.js';

export type RawServiceNetworks = string[] | Record<string, { aliases?: string[]; ipv4_address?: string } | null>;

/** The default network: the environment's own, which every service joins. */
export const defaultNetwork = 'default';

function inSubnet(address: string, cidr: string): boolean {
  const toInt = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  const [base, bits] = cidr.split('/');
  if (!/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(address) || base === undefined) return false;
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(toInt(base) / size) * size;
  return toInt(address) >= start && toInt(address) < start + size;
}

/** Service networks by their environment-level key; undefined when the service lists none (it joins the default only). */
export function normalizeServiceNetworks(raw: RawServiceNetworks | undefined, environment: EnvironmentManifest | undefined, report: Report): Record<string, NetworkAttachment> | undefined {
  if (raw === undefined) return undefined;
  const entries: [string, { aliases?: string[]; ipv4_address?: string } | null, (string | number)[]][] = Array.isArray(raw)
    ? raw.map((name, i) => [name, null, ['networks', i]])
    : Object.entries(raw).map(([name, value]) => [name, value, ['networks', name]]);
  const defined = environment?.networks ?? {};
  const out: Record<string, NetworkAttachment> = {};
  for (const [name, value, where] of entries) {
    const definition = defined[name];
    if (name !== defaultNetwork && !definition) {
      const known = [defaultNetwork, ...Object.keys(defined)].join(', ');
      report(where, `names network "${name}", which the environment does not define (define it under networks in environment.yaml; networks here: ${known})`, Array.isArray(raw) ? 'value' : 'key');
      continue;
    }
    const attachment: NetworkAttachment = definition?.digest ? { definition: definition.digest } : {};
    if (value?.aliases?.length) attachment.aliases = [...value.aliases].sort();
    const ip = value?.ipv4_address;
    if (ip !== undefined) {
      const subnets = definition?.subnets ?? [];
      if (subnets.length === 0) {
        report([...where, 'ipv4_address'], `needs a network with a subnet: give networks.${name}.ipam.config[].subnet in environment.yaml (got ${describeValue(ip)})`);
        continue;
      }
      if (!subnets.some((s) => inSubnet(ip, s.subnet))) {
        report([...where, 'ipv4_address'], `is not in the subnet of network ${name} (${subnets.map((s) => s.subnet).join(', ')}) (got ${describeValue(ip)})`);
        continue;
      }
      attachment.ipv4Address = ip;
    }
    out[name] = attachment;
  }
  return out;
}
