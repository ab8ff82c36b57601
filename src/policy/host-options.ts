import type { ContainerSpec } from '../manifest/types.js';

/**
 * Spec fields that reach past the container into the host, as the service
 * schema spells them once it offers them (privileged, cap_add, devices,
 * network_mode/pid/ipc: host). Read defensively: a spec without them uses none.
 */
export function hostOptionsOf(spec: ContainerSpec): string[] {
  const raw = spec as unknown as Record<string, unknown>;
  const used: string[] = [];
  if (raw.privileged === true) used.push('privileged: true');
  for (const key of ['capAdd', 'devices'] as const) {
    const value = raw[key];
    if (Array.isArray(value) && value.length > 0) used.push(`${key === 'capAdd' ? 'cap_add' : 'devices'} (${value.map(String).join(', ')})`);
  }
  for (const key of ['networkMode', 'pid', 'ipc'] as const) {
    const value = raw[key];
    if (value === 'host') used.push(`${key === 'networkMode' ? 'network_mode' : key}: host`);
  }
  return used;
}
