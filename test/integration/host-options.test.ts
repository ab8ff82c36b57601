import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigRepo } from './helpers/cli.js';
import { BASE_IMAGE, removeByLabel, requireDocker, requireImage, uniqueName } from './helpers/docker.js';

// Host-level compose options: applied by the real CLI with an operator policy
// that allows them, read back with docker inspect; refused without it.
const env = uniqueName('hostopts').replace(/[-.]/g, '');
let docker: Docker;
let repo: ConfigRepo;
let host: string;
let policy: string;
let box: Docker.ContainerInspectInfo;
let hostnet: Docker.ContainerInspectInfo;

const service = (name: string, extra: string) => `apiVersion: stagecoach/v1\nkind: Service\nname: ${name}\nimage: ${BASE_IMAGE}\ninit: true\ncommand: ["sleep", "3600"]\nstop_grace_period: 1s\n${extra}`;

const boxFields = `cap_add: [NET_ADMIN, SYS_TIME]
cap_drop: [MKNOD]
devices: ["/dev/null:/dev/xnull:r"]
pid: host
ipc: host
security_opt: [no-new-privileges:true]
sysctls:
  net.core.somaxconn: 1024
`;

beforeAll(async () => {
  docker = await requireDocker();
  await requireImage(docker);
  host = await mkdtemp(path.join(tmpdir(), 'stagecoach-hostopts-'));
  policy = path.join(host, 'policy.yaml');
  await writeFile(policy, `environments:\n  - match: "${env}"\n    hostOptions: true\n`);
  repo = await ConfigRepo.create(env);
  await repo.write('box.yaml', service('box', boxFields));
  await repo.write('hostnet.yaml', service('hostnet', 'network_mode: host\n'));
  const applied = await repo.run('apply', ['--policy', policy]);
  expect(applied.stderr + applied.stdout).toContain(`${env}: converged`);
  expect(applied.code).toBe(0);
  box = await docker.getContainer(`${env}-box`).inspect();
  hostnet = await docker.getContainer(`${env}-hostnet`).inspect();
});

afterAll(async () => {
  await removeByLabel(docker, 'io.stagecoach.environment', env);
  await repo?.dispose();
  if (host) await rm(host, { recursive: true, force: true });
});

describe('host-level options the operator allows reach docker inspect', () => {
  const table: [string, () => unknown, unknown][] = [
    ['cap_add', () => box.HostConfig.CapAdd, ['NET_ADMIN', 'SYS_TIME']],
    ['cap_drop', () => box.HostConfig.CapDrop, ['MKNOD']],
    ['devices', () => box.HostConfig.Devices, [{ PathOnHost: '/dev/null', PathInContainer: '/dev/xnull', CgroupPermissions: 'r' }]],
    ['pid: host', () => box.HostConfig.PidMode, 'host'],
    ['ipc: host', () => box.HostConfig.IpcMode, 'host'],
    // The engine may add security options of its own; ours must be among them.
    ['security_opt', () => box.HostConfig.SecurityOpt?.includes('no-new-privileges:true'), true],
    ['sysctls', () => (box.HostConfig as { Sysctls?: Record<string, string> }).Sysctls, { 'net.core.somaxconn': '1024' }],
    ['box stays on the environment network', () => Object.keys(box.NetworkSettings.Networks), [`stagecoach-${env}`]],
    ['network_mode: host', () => hostnet.HostConfig.NetworkMode, 'host'],
    ['network_mode: host joins no other network', () => Object.keys(hostnet.NetworkSettings.Networks), ['host']],
  ];

  it.each(table)('%s', (_field, read, expected) => {
    expect(read()).toEqual(expected);
  });

  it('both run', () => {
    expect([box.State.Running, hostnet.State.Running]).toEqual([true, true]);
  });
});

describe('privileged reaches the engine', () => {
  // This machine's engine runs without the full capability set (runc cannot grant them all:
  // "unable to apply caps"); a root engine starts it. Either way Privileged reached the engine.
  it('privileged: true is in HostConfig, or the engine itself refused to grant every capability', async () => {
    await repo.write('priv.yaml', service('priv', 'privileged: true\nrestart: "no"\n'));
    const applied = await repo.run('apply', ['--policy', policy]);
    const output = applied.stderr + applied.stdout;
    if (output.includes(`${env}: converged`)) {
      expect((await docker.getContainer(`${env}-priv`).inspect()).HostConfig.Privileged).toBe(true);
    } else {
      expect(output).toContain('priv: failed: could not start');
      expect(output).toContain('unable to apply caps: operation not permitted');
    }
    await repo.remove('priv.yaml');
  });
});

describe('without the operator policy, host-level options are refused', () => {
  it('apply exits 2 naming policy.defaults.hostOptions and creates nothing new', async () => {
    await repo.write('extra.yaml', service('extra', 'cap_add: [NET_ADMIN]\n'));
    const refused = await repo.run('apply', [], { STAGECOACH_POLICY: '' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`service extra uses cap_add (NET_ADMIN), a host-level option the operator has not allowed for environment ${env} (allow it in the daemon settings: policy.defaults.hostOptions: true)`);
    expect(refused.stderr).toContain('service box uses cap_add (NET_ADMIN, SYS_TIME)');
    await expect(docker.getContainer(`${env}-extra`).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });
});
