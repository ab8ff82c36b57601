import { stableStringify } from '../manifest/hash.js';
import type { LoadedEnvironment, ServiceManifest } from '../manifest/types.js';
import type { Slot } from '../runtime/labels.js';
import { containerName, labels, networkName, slotSuffix, volumeName } from '../runtime/labels.js';
import type { CreateContainer, HostSettings } from '../runtime/types.js';
import { defaultNetwork } from '../manifest/service-networks.js';
import type { SecretSource } from './secrets.js';
import { resolveEnvironment, resolveSecretFiles } from './secrets.js';

export function managedLabels(env: string): Record<string, string> {
  return { [labels.managed]: 'true', [labels.environment]: env };
}

/** The networks a service joins besides the environment's default one, by Docker name. */
function extraNetworks(env: LoadedEnvironment, service: ServiceManifest): NonNullable<CreateContainer['extraNetworks']> {
  const defined = env.environment.networks ?? {};
  return Object.entries(service.spec.networks ?? {})
    .filter(([key]) => key !== defaultNetwork && defined[key])
    .map(([key, a]) => ({ name: defined[key]!.name, aliases: [service.name, ...(a.aliases ?? [])], ...(a.ipv4Address ? { ipv4Address: a.ipv4Address } : {}) }));
}

/** Repo files and configs with their content; secrets resolved on the daemon host (a missing one fails naming it). */
function containerFiles(env: LoadedEnvironment, service: ServiceManifest, secrets: SecretSource): NonNullable<CreateContainer['files']> {
  const files = service.spec.files ?? [];
  const wanted = Object.fromEntries(files.filter((f) => f.secret).map((f) => [f.target, f.secret!]));
  const resolved = resolveSecretFiles(wanted, secrets, `${env.name}/${service.name}`);
  return files.map((f) => ({
    path: f.target,
    content: f.secret ? resolved[f.target]! : (service.fileContents?.[f.target] ?? Buffer.alloc(0)),
    mode: f.mode,
    ...(f.uid === undefined ? {} : { uid: f.uid }),
    ...(f.gid === undefined ? {} : { gid: f.gid }),
  }));
}

/** The host-level options of a spec (already allowed by the operator policy before anything is created), or undefined. */
function hostSettings(spec: ServiceManifest['spec']): HostSettings | undefined {
  const { privileged, capAdd, capDrop, devices, networkMode, pid, ipc, securityOpt, sysctls } = spec;
  const host = Object.fromEntries(Object.entries({ privileged, capAdd, capDrop, devices, networkMode, pid, ipc, securityOpt, sysctls }).filter(([, v]) => v !== undefined));
  return Object.keys(host).length ? (host as HostSettings) : undefined;
}

/** The engine-level container for one replica of a service, secrets resolved. Never log the result. */
export function buildCreate(env: LoadedEnvironment, service: ServiceManifest, replica: number, slot: Slot, revision: string, secrets: SecretSource): CreateContainer {
  const spec = service.spec;
  const fixed = spec.containerName;
  const name = fixed ? `${fixed}${slot === 'current' ? '' : slotSuffix[slot]}` : containerName(env.name, service.name, replica, service.replicas, slot);
  return {
    name,
    image: spec.image,
    command: spec.command,
    entrypoint: spec.entrypoint,
    env: resolveEnvironment(spec.environment, secrets, `${env.name}/${service.name}`),
    labels: {
      ...spec.labels,
      ...managedLabels(env.name),
      [labels.service]: service.name,
      [labels.replica]: String(replica),
      [labels.specHash]: service.specHash,
      [labels.spec]: stableStringify(spec),
      [labels.revision]: revision,
    },
    ports: spec.ports,
    mounts: spec.volumes.map(({ external, ...m }) => ({ ...m, source: m.type === 'volume' && m.source && !external ? volumeName(env.name, m.source) : m.source })),
    healthcheck: spec.healthcheck,
    restart: spec.restart,
    init: spec.init,
    stopGraceMs: spec.stopGraceMs,
    resources: spec.resources,
    network: networkName(env.name),
    aliases: [service.name, ...(spec.networks?.[defaultNetwork]?.aliases ?? [])],
    ...(spec.options ? { options: spec.options } : {}),
    ...(spec.networks ? { extraNetworks: extraNetworks(env, service) } : {}),
    ...(spec.files ? { files: containerFiles(env, service, secrets) } : {}),
    ...(hostSettings(spec) ? { host: hostSettings(spec) } : {}),
  };
}
