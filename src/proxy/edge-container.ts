import { labels, networkName } from '../runtime/labels.js';
import type { CreateContainer } from '../runtime/types.js';
import type { EdgeColor, EdgeSpec } from './edge-spec.js';
import { colorAlias, edgeContainerName, edgeHash, edgeLabels } from './edge-spec.js';
import { configPath, haproxyConfig } from './haproxy-config.js';

/**
 * A service container that runs behind its proxy: it publishes none of the
 * fixed host ports (the proxy holds them), answers on the environment network
 * under its service name as before, and also under its colour alias, which
 * the proxy forwards to. The fixed bindings are dropped, not turned into
 * `published: null`: that asks the engine for a random host port on every
 * address, which would open a port bound to 127.0.0.1 to the world. Ports the
 * user left to the engine (`"9000"`) stay as written. Pure.
 */
export function withEdge(create: CreateContainer, color: EdgeColor): CreateContainer {
  const service = create.labels[labels.service] ?? '';
  return {
    ...create,
    ports: create.ports.filter((p) => p.published === null),
    labels: { ...create.labels, [edgeLabels.color]: color },
    aliases: [...create.aliases, colorAlias(service, color)],
  };
}

/**
 * The proxy container of one service: HAProxy with the configuration for
 * `active`, publishing the service's fixed host ports. The configuration is
 * handed over in an environment variable and copied to a file on first start;
 * switches rewrite the file, so a restart keeps the last switch. Pure.
 */
export function edgeCreate(env: string, spec: EdgeSpec, active: EdgeColor, revision: string): CreateContainer {
  const start = `[ -s ${configPath} ] || printf '%s' "$STAGECOACH_EDGE_CONFIG" > ${configPath}; exec haproxy -db -f ${configPath}`;
  return {
    name: edgeContainerName(env, spec.service),
    image: spec.image,
    entrypoint: ['/bin/sh', '-c'],
    command: [start],
    env: { STAGECOACH_EDGE_CONFIG: haproxyConfig(spec, active) },
    labels: {
      [labels.managed]: 'true',
      [labels.environment]: env,
      [labels.revision]: revision,
      [edgeLabels.edgeFor]: spec.service,
      [edgeLabels.edgeHash]: edgeHash(spec),
    },
    ports: spec.frontends.flatMap((f) => f.bindings.map((b) => ({ target: f.port, published: b.published, hostIp: b.hostIp, protocol: 'tcp' as const }))),
    mounts: [],
    healthcheck: null,
    restart: 'unless-stopped',
    init: true,
    stopGraceMs: Math.max(1_000, spec.drainMs),
    resources: { nanoCpus: null, memoryBytes: null, pids: null },
    network: networkName(env),
    aliases: [],
  };
}
