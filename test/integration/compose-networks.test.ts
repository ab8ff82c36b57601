import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigRepo } from './helpers/cli.js';
import { BASE_IMAGE, removeByLabel, requireDocker, requireImage, TEST_LABEL, uniqueName } from './helpers/docker.js';

// Environment-level networks (internal, ipam subnet, external) and service
// networks (aliases, ipv4_address), created, labelled and pruned per environment.
const env = uniqueName('composenet').replace(/[-.]/g, '');
const externalNet = `${env}-shared`;
let docker: Docker;
let repo: ConfigRepo;
// A /24 that no network on the shared engine overlaps (chosen in beforeAll).
let subnet = '';
let fixedIp = '';

const toInt = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
function range(cidr: string): [number, number] {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(toInt(base!) / size) * size;
  return [start, start + size - 1];
}

async function freeSubnet(): Promise<string> {
  const taken = (await docker.listNetworks()).flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => !!s && s.includes('.')));
  for (let attempt = 0; attempt < 200; attempt++) {
    const candidate = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 256)}.0/24`;
    const [a, b] = range(candidate);
    if (taken.every((t) => { const [c, d] = range(t); return b < c || a > d; })) return candidate;
  }
  throw new Error('no free /24 subnet under 10.200.0.0/12 on this engine');
}

const environmentYaml = (withFront: boolean) => `networks:
  back:
    ipam:
      config: [{ subnet: ${subnet} }]
${withFront ? '  front:\n    internal: true\n' : ''}  shared:
    external: true
    name: ${externalNet}
`;
const svc = (name: string, networks: string) => `apiVersion: stagecoach/v1\nkind: Service\nname: ${name}\nimage: ${BASE_IMAGE}\ninit: true\nstop_grace_period: 1s\ncommand: ["sleep", "3600"]\n${networks}`;

beforeAll(async () => {
  docker = await requireDocker();
  await requireImage(docker);
  subnet = await freeSubnet();
  fixedIp = subnet.replace(/0\/24$/, '10');
  await docker.createNetwork({ Name: externalNet, Labels: { [TEST_LABEL]: env } });
  repo = await ConfigRepo.create(env, environmentYaml(true));
  await repo.write('api.yaml', svc('api', `networks:\n  default:\n    aliases: [api-legacy]\n  back:\n    aliases: [api.internal]\n    ipv4_address: ${fixedIp}\n  shared:\n`));
  await repo.write('web.yaml', svc('web', 'networks: [default, front]\n'));
  const applied = await repo.run('apply');
  expect(applied.stderr + applied.stdout).toContain(`${env}: converged`);
});

afterAll(async () => {
  await removeByLabel(docker, 'io.stagecoach.environment', env);
  await removeByLabel(docker, TEST_LABEL, env);
  await repo?.dispose();
});

const networksOf = async (name: string) => (await docker.getContainer(`${env}-${name}`).inspect()).NetworkSettings.Networks;

describe('compose networks on a real engine', () => {
  it('joins the default network plus the listed ones, with aliases and a fixed address', async () => {
    const nets = await networksOf('api');
    expect(Object.keys(nets).sort()).toEqual([externalNet, `stagecoach-${env}`, `stagecoach-${env}-back`].sort());
    expect(nets[`stagecoach-${env}`]!.Aliases).toEqual(expect.arrayContaining(['api', 'api-legacy']));
    expect(nets[`stagecoach-${env}-back`]!.Aliases).toEqual(expect.arrayContaining(['api', 'api.internal']));
    expect(nets[`stagecoach-${env}-back`]!.IPAMConfig?.IPv4Address).toBe(fixedIp);
    expect(nets[`stagecoach-${env}-back`]!.IPAddress).toBe(fixedIp);
  });

  it('creates internal networks labelled for the environment; external ones are joined, not created', async () => {
    const front = await docker.getNetwork(`stagecoach-${env}-front`).inspect();
    expect(front.Internal).toBe(true);
    expect(front.Labels).toMatchObject({ 'io.stagecoach.environment': env, 'io.stagecoach.network': 'front' });
    const back = await docker.getNetwork(`stagecoach-${env}-back`).inspect();
    expect(back.IPAM?.Config).toEqual([expect.objectContaining({ Subnet: subnet })]);
    expect((await docker.getNetwork(externalNet).inspect()).Labels).toEqual({ [TEST_LABEL]: env });
    expect(Object.keys(await networksOf('web')).sort()).toEqual([`stagecoach-${env}`, `stagecoach-${env}-front`].sort());
  });

  it('prunes a network no service joins any more; the default and external ones stay', async () => {
    await repo.write('environment.yaml', `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\n${environmentYaml(false)}`);
    await repo.write('web.yaml', svc('web', ''));
    const applied = await repo.run('apply');
    expect(applied.stderr + applied.stdout).toContain(`${env}: converged`);
    const names = (await docker.listNetworks()).map((n) => n.Name);
    expect(names).not.toContain(`stagecoach-${env}-front`);
    expect(names).toEqual(expect.arrayContaining([`stagecoach-${env}`, `stagecoach-${env}-back`, externalNet]));
  });
});

describe('a network definition changed in git', () => {
  const envDoc = (networks: string) => `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\nnetworks:\n${networks}  shared:\n    external: true\n    name: ${externalNet}\n`;
  const back = (extra = '') => `  back:\n    ipam:\n      config: [{ subnet: ${subnet} }]\n${extra}`;

  it('plans a replace of the services joining it, then refuses before touching anything, naming the manual steps', async () => {
    const before = await docker.getContainer(`${env}-api`).inspect();
    await repo.write('environment.yaml', envDoc(back('    labels: { tier: back }\n')));
    const planned = await repo.run('plan');
    expect(planned.stdout).toMatch(/replace[^\n]*api[\s\S]*networks/);
    const applied = await repo.run('apply');
    expect(applied.code).not.toBe(0);
    expect(applied.stdout + applied.stderr).toContain(`network stagecoach-${env}-back (networks.back in environments/${env}/environment.yaml) was created from another definition`);
    const after = await docker.getContainer(`${env}-api`).inspect();
    expect([after.Id, after.State.Running]).toEqual([before.Id, true]);
    expect((await docker.getNetwork(`stagecoach-${env}-back`).inspect()).Labels?.tier).toBeUndefined();
  });

  it('a new key is the way on without downtime: services move to the new network, the old one is pruned', async () => {
    await repo.write('environment.yaml', envDoc('  back2:\n    labels: { tier: back }\n'));
    await repo.write('api.yaml', svc('api', 'networks:\n  default:\n    aliases: [api-legacy]\n  back2:\n    aliases: [api.internal]\n  shared:\n'));
    const applied = await repo.run('apply');
    expect(applied.stderr + applied.stdout).toContain(`${env}: converged`);
    expect(Object.keys(await networksOf('api')).sort()).toEqual([externalNet, `stagecoach-${env}`, `stagecoach-${env}-back2`].sort());
    expect((await docker.getNetwork(`stagecoach-${env}-back2`).inspect()).Labels?.tier).toBe('back');
    expect((await docker.listNetworks()).map((n) => n.Name)).not.toContain(`stagecoach-${env}-back`);
  });
});
