import type { Report } from './normalize-service.js';
import { describeValue } from './problem.js';

/**
 * The operator settings for host-level options (daemon settings file, src/policy/). They allow binding
 * the Docker socket and the honoured fields below; the rest are not created by stagecoach at all, so they
 * stay refused even where an operator allows host options: never accepted and ignored.
 */
export const hostOptionsSetting = 'policy.defaults.hostOptions / policy.environments[].hostOptions';

const hostOptionRefusal = `is a host-level option, refused: stagecoach does not create containers with it, even where the operator allows host options (${hostOptionsSetting} in the daemon settings file covers privileged, cap_add, cap_drop, devices, network_mode/pid/ipc: host, security_opt, sysctls and binding the Docker socket)`;

/** Host-level fields stagecoach creates containers with (src/manifest/service-host.ts) where the operator's policy allows host options. */
export const honoredHostOptions: readonly string[] = ['privileged', 'cap_add', 'cap_drop', 'devices', 'network_mode', 'pid', 'ipc', 'security_opt', 'sysctls'];

/** Compose fields that reach past the container into the host. */
export const hostOptions = [
  'privileged',
  'cap_add',
  'cap_drop',
  'devices',
  'network_mode',
  'pid',
  'ipc',
  'security_opt',
  'sysctls',
  'runtime',
  'userns_mode',
  'cgroup_parent',
  'cgroup',
  'device_cgroup_rules',
  'oom_kill_disable',
  'oom_score_adj',
] as const;

const hostLevel = (what: string) => `is a host-level option (${what}), refused: stagecoach does not create containers with it, even where the operator allows host options (${hostOptionsSetting})`;
const windowsOnly = 'applies to Windows containers only; this engine runs Linux containers';

/** Compose fields stagecoach does not create containers with, each with the reason it gives. */
export const unsupportedFields: Readonly<Record<string, string>> = {
  develop: "is compose watch's development-time configuration (files synced into a running container as you edit): a deploy does not use it, as `docker compose up` does not; remove it here (extends does not inherit it, so a shared compose file may keep it)",
  attach: 'says whether `docker compose up` follows the logs in the foreground: a deploy runs detached; remove it here (extends does not inherit it)',
  annotations: 'is not supported: stagecoach does not create containers with annotations (HostConfig.Annotations, Docker 24 and later); use labels',
  gpus: hostLevel('GPU device requests'),
  uts: hostLevel('the host UTS namespace'),
  storage_opt: hostLevel('storage driver options'),
  cpu_rt_runtime: hostLevel('real-time scheduler budget'),
  cpu_rt_period: hostLevel('real-time scheduler period'),
  blkio_config: hostLevel('block device I/O weights and limits'),
  use_api_socket: "is refused: it hands the container the Docker socket and the deployer's registry credentials (bind the socket as a volume where the operator's policy allows it)",
  post_start: 'is not supported: lifecycle hooks are not run; run the command in the image entrypoint, or as a job service this one depends on',
  pre_stop: 'is not supported: lifecycle hooks are not run; handle the stop signal (stop_signal, stop_grace_period) in the service',
  volumes_from: "is refused: it mounts another container's volumes, which stagecoach does not track; mount one named volume in both services",
  external_links: 'is refused: links are legacy; services reach each other by service name on the environment network',
  mac_address: 'is not supported: containers get their MAC address from the engine',
  mem_swappiness: 'is not supported: stagecoach does not set a container\'s kernel swappiness (it does set mem_limit and memswap_limit)',
  label_file: 'is not supported: write the labels under labels',
  pull_refresh_after: 'is not supported: use pull_policy (always, missing, never)',
  provider: 'is not supported: a provider service is run by a compose plugin, not as a container',
  cpu_count: windowsOnly,
  cpu_percent: windowsOnly,
  credential_spec: windowsOnly,
  isolation: windowsOnly,
};

/**
 * Fields the schema knows so that the message can say why they are refused,
 * rather than "not a known field". Each is refused here, never ignored.
 */
export function refuseFields(raw: Record<string, unknown>, report: Report): void {
  for (const [field, reason] of Object.entries(unsupportedFields)) {
    if (raw[field] !== undefined) report([field], `${reason} (got ${describeValue(raw[field])})`, 'key');
  }
  for (const field of hostOptions) {
    if (raw[field] === undefined) continue;
    if (field === 'network_mode' && raw[field] !== 'host') {
      report([field], `is refused: every service joins its environment's network (and those under networks); network_mode ${describeValue(raw[field])} would take it off that network`, 'key');
      continue;
    }
    if (honoredHostOptions.includes(field)) continue;
    report([field], `${hostOptionRefusal} (got ${describeValue(raw[field])})`, 'key');
  }
  const replicas = (raw.deploy as { replicas?: number } | undefined)?.replicas ?? (raw.scale as number | undefined) ?? 1;
  if (raw.container_name !== undefined && replicas > 1) {
    report(['container_name'], `allows one replica only: ${replicas} containers cannot share the name ${describeValue(raw.container_name)}`, 'key');
  }
  if (raw.pull_policy === 'build') report(['pull_policy'], 'build is refused: the daemon does not build images; build and push in CI, then use missing or always');
  if (raw.links !== undefined) report(['links'], 'is refused: links are legacy; services reach each other by service name on the environment network (add another name as an alias under networks)', 'key');
  const reservations = (raw.deploy as { resources?: { reservations?: { devices?: unknown } } } | undefined)?.resources?.reservations;
  if (reservations?.devices !== undefined) {
    report(['deploy', 'resources', 'reservations', 'devices'], `${hostOptionRefusal} (device access)`, 'key');
  }
}
