import { formatBinding } from '../manifest/ports.js';
import type { PortBinding } from '../manifest/ports.js';
import type { ServiceManifest } from '../manifest/types.js';
import { specHash } from '../manifest/hash.js';

import type { EdgeMode } from '../manifest/types.js';

export { edgeModes } from '../manifest/types.js';
export type { EdgeMode } from '../manifest/types.js';

/**
 * A proxied service alternates its containers between two colours: each new
 * container takes the colour its predecessor does not have, and is reachable
 * on the environment network as `<service>--<colour>`. The proxy's two servers
 * name those two DNS names, so a switch is an admin-state change, never an
 * address change.
 */
export const edgeColors = ['blue', 'green'] as const;
export type EdgeColor = (typeof edgeColors)[number];

export const edgeLabels = {
  /** On the proxy: the service it fronts (the proxy has no io.stagecoach.service label, so it is never taken for the service). */
  edgeFor: 'io.stagecoach.edge-for',
  /** On the proxy: hash of what shapes it (image, mode, ports); a change recreates it. */
  edgeHash: 'io.stagecoach.edge-hash',
  /** On a service container behind the proxy: its colour. Absent: the container publishes its ports itself. */
  color: 'io.stagecoach.edge-color',
} as const;

/** The image the proxy runs; scripts/build-proxy-image.sh builds a stand-in when no registry answers. */
export const edgeImage = 'haproxy:2.6-alpine';

export interface EdgeFrontend {
  /** The port the proxy listens on inside its container, and the service's port it forwards to. */
  port: number;
  /** Host bindings of that port, published by the proxy container. */
  bindings: PortBinding[];
}

/** Everything that shapes one service's proxy container. */
export interface EdgeSpec {
  service: string;
  mode: Exclude<EdgeMode, 'off'>;
  image: string;
  frontends: EdgeFrontend[];
  /** How long a switch waits for the old container's connections to finish before it is retired anyway. */
  drainMs: number;
}

export type EdgeDecision = { proxied: true; spec: EdgeSpec } | { proxied: false; reason: string | undefined };

export function otherColor(color: EdgeColor | undefined): EdgeColor {
  return color === 'blue' ? 'green' : 'blue';
}

export function colorAlias(service: string, color: EdgeColor): string {
  return `${service}--${color}`;
}

export function edgeContainerName(env: string, service: string): string {
  return `${env}-${service}.edge`;
}

/**
 * Whether a service runs behind an edge proxy, and the proxy it needs. Only
 * services that publish a fixed host port need one; UDP cannot be proxied
 * (HAProxy is TCP-only), so such a service keeps publishing its ports itself
 * and is updated stop-first. `edge: off` opts out.
 */
export function edgeDecision(service: ServiceManifest): EdgeDecision {
  const fixed = service.spec.ports.filter((p) => p.published !== null);
  if (fixed.length === 0) return { proxied: false, reason: undefined };
  if (service.edge === 'off') return { proxied: false, reason: 'stop-first: a fixed host port is published and edge is off' };
  const udp = fixed.filter((p) => p.protocol === 'udp');
  if (udp.length > 0) return { proxied: false, reason: `stop-first: ${udp.map(formatBinding).join(', ')} is UDP, which the edge proxy cannot carry` };
  const targets = [...new Set(fixed.map((p) => p.target))].sort((a, b) => a - b);
  const frontends = targets.map((port) => ({ port, bindings: fixed.filter((p) => p.target === port) }));
  return { proxied: true, spec: { service: service.name, mode: service.edge, image: edgeImage, frontends, drainMs: service.spec.stopGraceMs } };
}

export function edgeHash(spec: EdgeSpec): string {
  return specHash({ mode: spec.mode, image: spec.image, frontends: spec.frontends });
}
