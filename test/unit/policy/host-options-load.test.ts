import { describe, expect, it } from 'vitest';
import { buildCreate } from '../../../src/reconcile/container-spec.js';
import { createBody } from '../../../src/runtime/create-body.js';
import { loadOne, repoWith, serviceYaml } from '../manifest/support.js';
import { refusals } from './support.js';

const F = 'environments/testing';
const web = async (extra: string) => (await loadOne(repoWith({ [`${F}/web.yaml`]: serviceYaml('web', extra) }))).services[0]!;
const setting = (s: string) => `(allow it in the daemon settings: ${s}.hostOptions: true)`;

describe('host-level options: loaded into the spec, decided by the operator policy', () => {
  it.each([
    ['privileged: true\n', { privileged: true }],
    ['cap_add: [SYS_TIME, NET_ADMIN]\n', { capAdd: ['NET_ADMIN', 'SYS_TIME'] }],
    ['cap_drop: [NET_RAW]\n', { capDrop: ['NET_RAW'] }],
    ['devices: ["/dev/null:/dev/xnull:r", /dev/zero]\n', { devices: [{ host: '/dev/null', container: '/dev/xnull', permissions: 'r' }, { host: '/dev/zero', container: '/dev/zero', permissions: 'rwm' }] }],
    ['network_mode: host\n', { networkMode: 'host' }],
    ['pid: host\nipc: host\n', { pid: 'host', ipc: 'host' }],
    ['security_opt: [no-new-privileges:true]\n', { securityOpt: ['no-new-privileges:true'] }],
    ['sysctls:\n  net.core.somaxconn: 1024\n', { sysctls: { 'net.core.somaxconn': '1024' } }],
    ['sysctls: ["net.ipv4.ip_forward=1"]\n', { sysctls: { 'net.ipv4.ip_forward': '1' } }],
  ])('%s → %j', async (extra, fields) => {
    expect((await web(extra)).spec).toMatchObject(fields);
  });

  it('a service without them keeps its spec hash: no new keys in the spec', async () => {
    const spec = (await web('')).spec as unknown as Record<string, unknown>;
    for (const key of ['privileged', 'capAdd', 'capDrop', 'devices', 'networkMode', 'pid', 'ipc', 'securityOpt', 'sysctls']) expect(spec).not.toHaveProperty(key);
    expect((await web('privileged: false\n')).specHash).toBe((await web('')).specHash);
  });

  it.each([
    ['privileged: true\n', 'privileged: true'],
    ['cap_add: [NET_ADMIN]\n', 'cap_add (NET_ADMIN)'],
    ['devices: [/dev/fuse]\n', 'devices (/dev/fuse:/dev/fuse:rwm)'],
    ['network_mode: host\n', 'network_mode: host'],
    ['pid: host\n', 'pid: host'],
    ['ipc: host\n', 'ipc: host'],
    ['security_opt: [seccomp=unconfined]\n', 'security_opt (seccomp=unconfined)'],
    ['sysctls: { net.core.somaxconn: 1024 }\n', 'sysctls (net.core.somaxconn)'],
  ])('%s is refused by default, naming policy.defaults.hostOptions', async (extra, used) => {
    expect(await refusals(undefined, { web: extra })).toEqual([`${F}/web.yaml:1:1: service web uses ${used}, a host-level option the operator has not allowed for environment testing ${setting('policy.defaults')}`]);
  });

  it('an environment grant names its own setting; where it allows host options nothing is refused', async () => {
    expect(await refusals({ environments: [{ match: 'test*', hostOptions: false }], defaults: { hostOptions: true } }, { web: 'privileged: true\n' })).toEqual([
      `${F}/web.yaml:1:1: service web uses privileged: true, a host-level option the operator has not allowed for environment testing ${setting('policy.environments[0] (match "test*")')}`,
    ]);
    expect(await refusals({ environments: [{ match: 'testing', hostOptions: true }] }, { web: 'privileged: true\ncap_add: [NET_ADMIN]\nnetwork_mode: host\npid: host\nipc: host\nsecurity_opt: [seccomp=unconfined]\nsysctls: ["net.ipv4.ip_forward=1"]\ndevices: [/dev/fuse]\n' })).toEqual([]);
  });

  it('cap_drop only narrows the container: allowed without the policy', async () => {
    expect(await refusals(undefined, { web: 'cap_drop: [ALL]\n' })).toEqual([]);
  });
});

describe('host-level options reach the create body', () => {
  const body = async (extra: string) => {
    const env = await loadOne(repoWith({ [`${F}/web.yaml`]: serviceYaml('web', extra) }));
    return createBody(buildCreate(env, env.services[0]!, 1, 'current', 'r1', () => undefined));
  };

  it('every honoured field lands in HostConfig', async () => {
    const b = await body('privileged: true\ncap_add: [NET_ADMIN]\ncap_drop: [MKNOD]\ndevices: ["/dev/null:/dev/xnull:r"]\npid: host\nipc: host\nsecurity_opt: [no-new-privileges:true]\nsysctls: { net.core.somaxconn: 1024 }\n');
    expect(b.HostConfig).toMatchObject({
      Privileged: true, CapAdd: ['NET_ADMIN'], CapDrop: ['MKNOD'], Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/xnull', CgroupPermissions: 'r' }],
      PidMode: 'host', IpcMode: 'host', SecurityOpt: ['no-new-privileges:true'], Sysctls: { 'net.core.somaxconn': '1024' }, NetworkMode: 'stagecoach-testing',
    });
    expect(b.NetworkingConfig).toEqual({ EndpointsConfig: { 'stagecoach-testing': { Aliases: ['web'] } } });
  });

  it('network_mode host: the host network, no endpoints or aliases; without the fields, none of the keys', async () => {
    const b = await body('network_mode: host\n');
    expect(b.HostConfig!.NetworkMode).toBe('host');
    expect(b).not.toHaveProperty('NetworkingConfig');
    const plain = (await body('')).HostConfig as Record<string, unknown>;
    for (const key of ['Privileged', 'CapAdd', 'CapDrop', 'Devices', 'PidMode', 'IpcMode', 'SecurityOpt', 'Sysctls']) expect(plain).not.toHaveProperty(key);
  });
});
