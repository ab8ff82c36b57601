import { createHash } from 'node:crypto';
import path from 'node:path';
import type { LoadedEnvironment, ServiceManifest } from '../manifest/types.js';
import { managedLabels } from '../reconcile/container-spec.js';
import type { SecretSource } from '../reconcile/secrets.js';
import { resolveSecretFiles } from '../reconcile/secrets.js';

export const swarmFileKinds = ['secret', 'config'] as const;
export type SwarmFileKind = (typeof swarmFileKinds)[number];

/** Which secret or config (by its manifest name) a Swarm object is a version of. Never its value. */
export const fileLabel = 'io.stagecoach.file';

/**
 * One Swarm secret or config a service mounts. Immutable in Swarm, so its name
 * carries a content hash: new content is a new object, the old one is pruned
 * once no service uses it. `data` is a secret value for secrets: never log it.
 */
export interface SwarmFileObject {
  kind: SwarmFileKind;
  name: string;
  /** The file's bytes, exactly as in the repo or on the daemon host. */
  data: Buffer;
  labels: Record<string, string>;
  target: string;
  mode: number;
  uid: number;
  gid: number;
}

/** Swarm object names: [a-zA-Z0-9] at both ends, [-_.] inside, at most 64 characters. */
export function swarmFileName(env: string, base: string, data: string | Buffer): string {
  const hash = createHash('sha256').update(data).digest('hex').slice(0, 12);
  const clean = base.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '') || 'file';
  return `${env}_${clean}`.slice(0, 64 - hash.length - 1) + `_${hash}`;
}

/**
 * The secrets and configs of a service as Swarm objects: compose secrets
 * (resolved on the daemon host; a missing one fails naming it) become Swarm
 * secrets, configs and repo files become Swarm configs.
 */
export function swarmFiles(env: LoadedEnvironment, service: ServiceManifest, secrets: SecretSource): SwarmFileObject[] {
  const files = service.spec.files ?? [];
  const wanted = Object.fromEntries(files.filter((f) => f.secret).map((f) => [f.target, f.secret!]));
  const resolved = resolveSecretFiles(wanted, secrets, `${env.name}/${service.name}`);
  return files.map((f) => {
    const kind: SwarmFileKind = f.secret ? 'secret' : 'config';
    const base = f.secret ?? (f.from.startsWith('config:') ? f.from.slice('config:'.length) : path.posix.basename(f.from));
    const data = f.secret ? resolved[f.target]! : (service.fileContents?.[f.target] ?? Buffer.alloc(0));
    return {
      kind,
      name: swarmFileName(env.name, base, data),
      data,
      labels: { ...managedLabels(env.name), [fileLabel]: `${kind}:${base}` },
      target: f.target,
      mode: f.mode,
      uid: f.uid ?? 0,
      gid: f.gid ?? 0,
    };
  });
}

/** ContainerSpec.Secrets and .Configs for the objects, by the ids Swarm gave them. */
export function fileReferences(objects: SwarmFileObject[], ids: ReadonlyMap<string, string>): { Secrets?: unknown[]; Configs?: unknown[] } {
  const ref = (o: SwarmFileObject) => ({ File: { Name: o.target, UID: String(o.uid), GID: String(o.gid), Mode: o.mode } });
  const secrets = objects.filter((o) => o.kind === 'secret').map((o) => ({ ...ref(o), SecretID: ids.get(o.name) ?? '', SecretName: o.name }));
  const configs = objects.filter((o) => o.kind === 'config').map((o) => ({ ...ref(o), ConfigID: ids.get(o.name) ?? '', ConfigName: o.name }));
  return { ...(secrets.length ? { Secrets: secrets } : {}), ...(configs.length ? { Configs: configs } : {}) };
}
