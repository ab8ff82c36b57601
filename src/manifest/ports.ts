import { compareText } from '../text-order.js';

export const protocols = ['tcp', 'udp', 'sctp'] as const;
export type Protocol = (typeof protocols)[number];

/** One container port published (or only exposed) on the host; ranges are expanded. */
export interface PortBinding {
  target: number;
  /** Host port; null = an ephemeral port chosen by Docker. */
  published: number | null;
  /** Host address; '' = all addresses. */
  hostIp: string;
  protocol: Protocol;
}

export interface LongPort {
  target: number | string;
  published?: number | string;
  host_ip?: string;
  protocol?: Protocol;
}

export type PortResult = { ok: true; bindings: PortBinding[] } | { ok: false; reason: string };

const maxRange = 1000;
const shortHelp = 'expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], e.g. "127.0.0.1:8080:80/tcp"';

function parseRange(text: string): [number, number] | undefined {
  const match = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(text);
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = match[2] === undefined ? start : Number(match[2]);
  if (start < 1 || end > 65535 || end < start) return undefined;
  return [start, end];
}

function expand(hostIp: string, published: string, target: string, protocol: Protocol): PortResult {
  const targets = parseRange(target);
  if (!targets) return { ok: false, reason: `container port "${target}" is not a port number 1-65535 or a range` };
  const count = targets[1] - targets[0] + 1;
  if (count > maxRange) return { ok: false, reason: `range of ${count} ports is larger than ${maxRange}` };
  let hostStart: number | null = null;
  if (published !== '') {
    const hosts = parseRange(published);
    if (!hosts) return { ok: false, reason: `host port "${published}" is not a port number 1-65535 or a range` };
    const hostCount = hosts[1] - hosts[0] + 1;
    if (hostCount !== count) return { ok: false, reason: `host range ${published} and container range ${target} differ in length` };
    hostStart = hosts[0];
  }
  const bindings: PortBinding[] = [];
  for (let i = 0; i < count; i++) {
    bindings.push({ target: targets[0] + i, published: hostStart === null ? null : hostStart + i, hostIp, protocol });
  }
  return { ok: true, bindings };
}

/** Compose short syntax: "80", "8080:80", "127.0.0.1:8080:80/udp", "127.0.0.1::80", "[::1]:8080:80", ranges. */
export function parseShortPort(input: string | number): PortResult {
  if (typeof input === 'number') return expand('', '', String(input), 'tcp');
  let text = input.trim();
  let protocol: Protocol = 'tcp';
  const slash = text.lastIndexOf('/');
  if (slash >= 0) {
    const proto = text.slice(slash + 1).toLowerCase();
    if (!(protocols as readonly string[]).includes(proto)) return { ok: false, reason: `protocol "${proto}" is not tcp, udp or sctp` };
    protocol = proto as Protocol;
    text = text.slice(0, slash);
  }
  let hostIp = '';
  if (text.startsWith('[')) {
    const close = text.indexOf(']:');
    if (close < 0) return { ok: false, reason: shortHelp };
    hostIp = text.slice(1, close);
    text = text.slice(close + 2);
    const parts = text.split(':');
    if (parts.length !== 2) return { ok: false, reason: shortHelp };
    return expand(hostIp, parts[0]!, parts[1]!, protocol);
  }
  const parts = text.split(':');
  switch (parts.length) {
    case 1:
      return expand('', '', parts[0]!, protocol);
    case 2:
      return expand('', parts[0]!, parts[1]!, protocol);
    case 3:
      if (!isIp(parts[0]!)) return { ok: false, reason: `host address "${parts[0]}" is not an IP address` };
      return expand(parts[0]!, parts[1]!, parts[2]!, protocol);
    default:
      return { ok: false, reason: shortHelp };
  }
}

export function parseLongPort(port: LongPort): PortResult {
  const published = port.published === undefined ? '' : String(port.published);
  if ((port as { mode?: string }).mode === 'ingress') return { ok: false, reason: 'mode ingress is the Swarm routing mesh; a single engine publishes in host mode (omit mode)' };
  const hostIp = port.host_ip ?? '';
  if (hostIp !== '' && !isIp(hostIp)) return { ok: false, reason: `host_ip "${hostIp}" is not an IP address` };
  return expand(hostIp, published, String(port.target), port.protocol ?? 'tcp');
}

function isIp(text: string): boolean {
  return /^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$/.test(text) || /^[0-9a-fA-F:]+$/.test(text);
}

/** Two bindings claim the same host port (0.0.0.0/'' overlaps every address). */
export function hostPortsClash(a: PortBinding, b: PortBinding): boolean {
  if (a.published === null || b.published === null) return false;
  if (a.published !== b.published || a.protocol !== b.protocol) return false;
  const wildcard = (ip: string) => ip === '' || ip === '0.0.0.0' || ip === '::';
  return wildcard(a.hostIp) || wildcard(b.hostIp) || a.hostIp === b.hostIp;
}

export function formatBinding(b: PortBinding): string {
  const host = b.published === null ? '' : `${b.hostIp ? `${b.hostIp}:` : ''}${b.published}:`;
  return `${host}${b.target}/${b.protocol}`;
}

export function compareBindings(a: PortBinding, b: PortBinding): number {
  return compareText(a.protocol, b.protocol) || a.target - b.target || compareText(a.hostIp, b.hostIp) || (a.published ?? 0) - (b.published ?? 0);
}
