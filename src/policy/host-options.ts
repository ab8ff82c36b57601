import type { ContainerSpec, DeviceMapping } from '../manifest/types.js';

const device = (d: DeviceMapping | string) => (typeof d === 'string' ? d : `${d.host}:${d.container}:${d.permissions}`);

/**
 * Spec fields that reach past the container into the host (privileged,
 * cap_add, devices, network_mode/pid/ipc: host, security_opt, sysctls), as
 * the operator policy names them. cap_drop only narrows the container, so it is
 * not one. Read defensively: a spec without them uses none.
 */
export function hostOptionsOf(spec: ContainerSpec): string[] {
  const used: string[] = [];
  if (spec.privileged === true) used.push('privileged: true');
  if (spec.capAdd?.length) used.push(`cap_add (${spec.capAdd.join(', ')})`);
  if (spec.devices?.length) used.push(`devices (${spec.devices.map(device).join(', ')})`);
  if (spec.networkMode === 'host') used.push('network_mode: host');
  if (spec.pid === 'host') used.push('pid: host');
  if (spec.ipc === 'host') used.push('ipc: host');
  if (spec.securityOpt?.length) used.push(`security_opt (${spec.securityOpt.join(', ')})`);
  if (spec.sysctls && Object.keys(spec.sysctls).length) used.push(`sysctls (${Object.keys(spec.sysctls).sort().join(', ')})`);
  return used;
}
