import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigRepo } from './helpers/cli.js';
import { BASE_IMAGE, removeByLabel, requireDocker, requireImage, TEST_LABEL, uniqueName } from './helpers/docker.js';

// One service that uses every supported compose field, applied by the real CLI
// on the real engine; then each field is read back with docker inspect.
const env = uniqueName('compose').replace(/[-.]/g, '');
const external = `${env}-media`;
let docker: Docker;
let repo: ConfigRepo;
let info: Docker.ContainerInspectInfo;
let planOutput = '';

const service = `apiVersion: stagecoach/v1
kind: Service
x-common: &common
  init: true
  stop_grace_period: 2s
  labels:
    tier: \${TIER}
    flag:
<<: *common
name: app
image: ${BASE_IMAGE}
build: ./app
command: ["sleep", "3600"]
environment:
  - GREETING=\${GREETING:-hello}
  - LITERAL=$$HOME
  - REGION
ports:
  - target: "8080"
    host_ip: 127.0.0.1
    x-purpose: admin
expose: ["3000", "9000/sctp"]
volumes:
  - data:/data:nocopy
  - cache:/cache:ro,z
  - ${'${'}MEDIA_VOLUME}:/media
  - type: tmpfs
    target: /scratch
    tmpfs: { size: 8m }
user: "1000:1000"
working_dir: /etc
hostname: app1
domainname: example.test
read_only: true
tmpfs: ["/run:size=1m"]
ulimits:
  nofile: { soft: 1024, hard: 2048 }
shm_size: 64mb
logging:
  driver: json-file
  options: { max-size: 1m, max-file: "2" }
stop_signal: SIGINT
pids_limit: 100
extra_hosts: ["db.local=10.1.2.3"]
dns: [10.0.0.53]
dns_search: example.test
stdin_open: true
tty: true
platform: linux/amd64
mem_limit: 64mb
mem_reservation: 32MiB
cpu_shares: 512
group_add: ["100"]
memswap_limit: 128m
cpuset: "0"
cpu_quota: 50000
cpu_period: 100000
scale: 1
pull_policy: if_not_present
healthcheck:
  test: ["CMD", "true"]
  interval: 1s
  retries: "3"
deploy:
  restart_policy: { condition: on-failure, max_attempts: 3 }
`;

beforeAll(async () => {
  docker = await requireDocker();
  await requireImage(docker);
  await docker.createVolume({ Name: external, Labels: { [TEST_LABEL]: env } });
  repo = await ConfigRepo.create(env, `profiles: [web]\nvolumes:\n  media: { external: true, name: ${external} }\n`);
  await repo.write('.env', `TIER=backend\nREGION=eu-west\nMEDIA_VOLUME=media\n`);
  await repo.write('app.yaml', service);
  await repo.write('named.yaml', `apiVersion: stagecoach/v1\nkind: Service\nname: named\nimage: ${BASE_IMAGE}\ncontainer_name: ${env}-custom-name\ninit: true\ncommand: ["sleep", "3600"]\n`);
  await repo.write('debug.yaml', `apiVersion: stagecoach/v1\nkind: Service\nname: debug\nimage: ${BASE_IMAGE}\nprofiles: [debug]\ncommand: ["sleep", "3600"]\n`);
  planOutput = (await repo.run('plan')).stdout;
  const applied = await repo.run('apply');
  expect(applied.stderr + applied.stdout).toContain(`${env}: converged`);
  info = await docker.getContainer(`${env}-app`).inspect();
});

afterAll(async () => {
  await removeByLabel(docker, 'io.stagecoach.environment', env);
  await removeByLabel(docker, TEST_LABEL, env);
  await repo?.dispose();
});

const mount = (target: string) => (info.Mounts as unknown as { Destination: string; Name?: string; Type: string; RW: boolean }[]).find((m) => m.Destination === target);
const hostMount = (target: string) => (info.HostConfig.Mounts ?? []).find((m) => m.Target === target) as (Docker.MountSettings & { VolumeOptions?: { NoCopy?: boolean }; TmpfsOptions?: { SizeBytes?: number } }) | undefined;

describe('every supported compose field reaches docker inspect', () => {
  const table: [string, () => unknown, unknown][] = [
    ['x- fragment merged with <<: init', () => info.HostConfig.Init, true],
    ['labels: interpolated from .env', () => info.Config.Labels.tier, 'backend'],
    ['labels: a label with no value', () => info.Config.Labels.flag, ''],
    ['environment: ${VAR:-default}', () => info.Config.Env.includes('GREETING=hello'), true],
    ['environment: $$ is a literal $', () => info.Config.Env.includes('LITERAL=$HOME'), true],
    ['environment: a name without value comes from .env', () => info.Config.Env.includes('REGION=eu-west'), true],
    ['ports: long form, target as a string', () => info.HostConfig.PortBindings['8080/tcp']?.[0]?.HostIp, '127.0.0.1'],
    ['expose', () => Object.keys(info.Config.ExposedPorts ?? {}).sort(), ['3000/tcp', '8080/tcp', '9000/sctp']],
    ['volumes: nocopy', () => hostMount('/data')?.VolumeOptions?.NoCopy, true],
    ['volumes: ro,z (Binds form)', () => info.HostConfig.Binds, [`stagecoach-${env}-cache:/cache:ro,z`]],
    ['volumes: external volume joined by its own name', () => mount('/media')?.Name, external],
    ['volumes: long-form tmpfs with size', () => hostMount('/scratch')?.TmpfsOptions?.SizeBytes, 8 * 1024 * 1024],
    ['user', () => info.Config.User, '1000:1000'],
    ['working_dir', () => info.Config.WorkingDir, '/etc'],
    ['hostname', () => info.Config.Hostname, 'app1'],
    ['domainname', () => info.Config.Domainname, 'example.test'],
    ['read_only', () => info.HostConfig.ReadonlyRootfs, true],
    ['tmpfs', () => info.HostConfig.Tmpfs, { '/run': 'size=1m' }],
    ['ulimits', () => info.HostConfig.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }]],
    ['shm_size: 64mb', () => info.HostConfig.ShmSize, 64 * 1024 * 1024],
    ['logging', () => info.HostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } }],
    ['stop_signal', () => (info.Config as { StopSignal?: string }).StopSignal, 'SIGINT'],
    ['stop_grace_period', () => (info.Config as { StopTimeout?: number }).StopTimeout, 2],
    ['pids_limit', () => info.HostConfig.PidsLimit, 100],
    ['extra_hosts: HOST=IP', () => info.HostConfig.ExtraHosts, ['db.local:10.1.2.3']],
    ['dns', () => info.HostConfig.Dns, ['10.0.0.53']],
    ['dns_search', () => info.HostConfig.DnsSearch, ['example.test']],
    ['stdin_open', () => info.Config.OpenStdin, true],
    ['tty', () => info.Config.Tty, true],
    ['platform', () => (info as unknown as { Platform: string }).Platform, 'linux'],
    ['mem_limit: 64mb', () => info.HostConfig.Memory, 64 * 1024 * 1024],
    ['mem_reservation: 32MiB', () => info.HostConfig.MemoryReservation, 32 * 1024 * 1024],
    ['cpu_shares', () => info.HostConfig.CpuShares, 512],
    ['group_add', () => info.HostConfig.GroupAdd, ['100']],
    ['memswap_limit', () => info.HostConfig.MemorySwap, 128 * 1024 * 1024],
    ['cpuset', () => info.HostConfig.CpusetCpus, '0'],
    ['cpu_quota', () => info.HostConfig.CpuQuota, 50000],
    ['cpu_period', () => info.HostConfig.CpuPeriod, 100000],
    ['healthcheck retries as a string', () => info.Config.Healthcheck?.Retries, 3],
    ['deploy.restart_policy', () => info.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 }],
  ];

  it.each(table)('%s', (_field, read, expected) => {
    expect(read()).toEqual(expected);
  });

  it('runs as asked (healthy, as user 1000, read-only root)', async () => {
    const state = (await docker.getContainer(`${env}-app`).inspect()).State;
    expect(state.Running).toBe(true);
  });

  it('container_name: the container carries that name, on the environment network under its service name', async () => {
    const named = await docker.getContainer(`${env}-custom-name`).inspect();
    expect(named.Config.Labels['io.stagecoach.service']).toBe('named');
    expect(named.NetworkSettings.Networks[`stagecoach-${env}`]?.Aliases).toContain('named');
    await repo.write('named.yaml', `apiVersion: stagecoach/v1\nkind: Service\nname: named\nimage: ${BASE_IMAGE}\ncontainer_name: ${env}-custom-name\ninit: true\ncommand: ["sleep", "3601"]\n`);
    const replan = await repo.run('plan');
    expect(replan.stdout).toContain('stop-first: container_name gives one live container the name');
    const applied = await repo.run('apply');
    expect(applied.stderr + applied.stdout).toContain(`${env}: converged`);
    expect((await docker.getContainer(`${env}-custom-name`).inspect()).Config.Cmd).toEqual(['sleep', '3601']);
  });

  it('profiles: a service whose profile is not active is not deployed', async () => {
    await expect(docker.getContainer(`${env}-debug`).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('build beside image: plan says the daemon does not build', () => {
    expect(planOutput).toContain(`has build: stagecoach does not build images; it pulls ${BASE_IMAGE}`);
  });
});
