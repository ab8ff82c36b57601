import { stableStringify } from '../manifest/hash.js';
import { formatBinding } from '../manifest/ports.js';
import type { ContainerSpec, EnvValue } from '../manifest/types.js';
import type { FieldChange } from './types.js';

/** Renders an environment value for people: secret references by name, never a value. */
export function showEnvValue(value: EnvValue | undefined): string {
  if (value === undefined) return '(unset)';
  return typeof value === 'string' ? JSON.stringify(value) : `<secret ${value.secret}>`;
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '(default)';
  return typeof value === 'string' ? value : stableStringify(value);
}

function mapChanges(prefix: string, from: Record<string, unknown>, to: Record<string, unknown>, render: (v: unknown) => string): FieldChange[] {
  const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  return keys
    .filter((k) => stableStringify(from[k]) !== stableStringify(to[k]))
    .map((k) => ({ field: `${prefix}.${k}`, from: from[k] === undefined ? '(unset)' : render(from[k]), to: to[k] === undefined ? '(unset)' : render(to[k]) }));
}

/** Which fields of a container spec differ, named the way a reviewer reads a manifest. */
export function diffSpecs(from: ContainerSpec, to: ContainerSpec): FieldChange[] {
  const changes: FieldChange[] = [];
  if (from.image !== to.image) changes.push({ field: 'image', from: from.image, to: to.image });
  changes.push(...mapChanges('environment', from.environment, to.environment, (v) => showEnvValue(v as EnvValue)));
  changes.push(...mapChanges('labels', from.labels, to.labels, (v) => JSON.stringify(v)));
  const simple: [string, unknown, unknown][] = [
    ['command', from.command, to.command],
    ['entrypoint', from.entrypoint, to.entrypoint],
    ['ports', from.ports.map(formatBinding).join(', ') || '(none)', to.ports.map(formatBinding).join(', ') || '(none)'],
    ['volumes', from.volumes, to.volumes],
    ['healthcheck', from.healthcheck, to.healthcheck],
    ['restart', from.restart, to.restart],
    ['init', from.init, to.init],
    ['deploy.resources.limits', from.resources, to.resources],
    ['stop_grace_period', `${from.stopGraceMs}ms`, `${to.stopGraceMs}ms`],
    ['networks', from.networks, to.networks],
    // Files by target and content hash: never their content (a secret's value is not in the spec at all).
    ['files', from.files?.map((f) => `${f.target}${f.sha256 ? `@${f.sha256.slice(7, 19)}` : ''}`), to.files?.map((f) => `${f.target}${f.sha256 ? `@${f.sha256.slice(7, 19)}` : ''}`)],
  ];
  // Swarm-only deploy settings, named as the manifest writes them.
  const swarmKeys = { mode: 'deploy.mode', update: 'deploy.update_config', rollback: 'deploy.rollback_config', placement: 'deploy.placement', reservations: 'deploy.resources.reservations', endpointMode: 'deploy.endpoint_mode' } as const;
  for (const [key, field] of Object.entries(swarmKeys)) {
    const a = from.swarm?.[key as keyof typeof swarmKeys];
    const b = to.swarm?.[key as keyof typeof swarmKeys];
    if (stableStringify(a) !== stableStringify(b)) changes.push({ field, from: show(a), to: show(b) });
  }
  changes.push(...mapChanges("options", (from.options ?? {}) as Record<string, unknown>, (to.options ?? {}) as Record<string, unknown>, (v) => stableStringify(v)));
  for (const [field, a, b] of simple) {
    if (stableStringify(a) !== stableStringify(b)) changes.push({ field, from: show(a), to: show(b) });
  }
  return changes;
}
