import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigRepo } from './helpers/cli.js';
import { BASE_IMAGE, removeByLabel, requireDocker, requireImage, uniqueName } from './helpers/docker.js';

// compose extends on the real engine: a service built from a base in a shared compose file
// (interpolated, its relative paths kept pointing at the same repo files), merged as compose
// merges; and repo files that are not text (a binary bind and a binary config) arriving byte for byte.
const env = uniqueName('composeext').replace(/[-.]/g, '');
let docker: Docker;
let repo: ConfigRepo;

/** Bytes that are not UTF-8 (a lone 0xff, a broken sequence, NUL) and every byte value. */
const binary = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, ...Array.from({ length: 256 }, (_, i) => i), 0x0a, 0x0d]);
const digest = createHash('sha256').update(binary).digest('hex');
// Environment-level secrets name the daemon host's secret each service secret is read from.
const apiKey = `key-${Math.random().toString(36).slice(2)}`;
const tls = `tls-${Math.random().toString(36).slice(2)}`;
const hostSecrets = { STAGECOACH_SECRET_SHOP_API_KEY: apiKey, STAGECOACH_SECRET_SHOP_TLS: tls };

const common = `x-quiet: &quiet
  init: true
  stop_grace_period: 1s
services:
  base:
    <<: *quiet
    image: \${BASE_IMAGE}
    command: ["sleep", "3600"]
    working_dir: /srv
    user: "1000:1000"
    environment: [TZ=utc, PORT=80]
    labels: { team: shop }
    volumes: ["./logo.bin:/assets/logo.bin:ro"]
    expose: ["3000"]
    depends_on: [nowhere]
  app:
    extends: base
    environment: { MODE: app }
`;

const web = `apiVersion: stagecoach/v1
kind: Service
name: web
extends: { file: ../../shared/common.yml, service: app }
environment: { PORT: "8080" }
labels: { tier: web }
expose: ["4000"]
configs: [{ source: blob, target: /etc/app/blob.bin }]
secrets: [api_key, { source: tls, target: tls.pem }]
`;

async function exec(cmd: string[]): Promise<string> {
  const run = await docker.getContainer(`${env}-web`).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const chunks: Buffer[] = [];
  for await (const chunk of await run.start({})) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).subarray(8).toString('utf8');
}

/** The file's bytes as the engine's archive API hands them back (a one-file tar). */
async function archived(path: string): Promise<Buffer> {
  const stream = await docker.getContainer(`${env}-web`).getArchive({ path });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const tar = Buffer.concat(chunks);
  const size = Number.parseInt(tar.subarray(124, 136).toString('ascii').replace(/\0.*$/, '').trim(), 8);
  return tar.subarray(512, 512 + size);
}

beforeAll(async () => {
  docker = await requireDocker();
  await requireImage(docker);
  repo = await ConfigRepo.create(env, 'configs:\n  blob: { file: blob.bin }\nsecrets:\n  api_key: { external: true, name: shop_api_key }\n  tls: { environment: SHOP_TLS }\n');
  await repo.write('.env', `BASE_IMAGE=${BASE_IMAGE}\n`);
  await repo.write('blob.bin', binary);
  await repo.write('../../shared/logo.bin', binary);
  await repo.write('../../shared/common.yml', common);
  await repo.write('web.yaml', web);
  const applied = await repo.run('apply', [], hostSecrets);
  expect(applied.stderr + applied.stdout).toContain(`${env}: converged`);
}, 120_000);

afterAll(async () => {
  await removeByLabel(docker, 'io.stagecoach.environment', env);
  await repo?.dispose();
});

describe('extends: every merged field reaches the container', () => {
  it.each([
    ['image (from the base, interpolated from .env)', (i: Docker.ContainerInspectInfo) => i.Config.Image, BASE_IMAGE],
    ['command (base)', (i: Docker.ContainerInspectInfo) => i.Config.Cmd, ['sleep', '3600']],
    ['working_dir (base)', (i: Docker.ContainerInspectInfo) => i.Config.WorkingDir, '/srv'],
    ['user (base)', (i: Docker.ContainerInspectInfo) => i.Config.User, '1000:1000'],
    ['init (a merge key inside the base file)', (i: Docker.ContainerInspectInfo) => i.HostConfig.Init, true],
    ['environment: base list + middle map + main map, main wins', (i: Docker.ContainerInspectInfo) => i.Config.Env.filter((e) => /^(TZ|PORT|MODE)=/.test(e)).sort(), ['MODE=app', 'PORT=8080', 'TZ=utc']],
    ['labels merged', (i: Docker.ContainerInspectInfo) => [i.Config.Labels.team, i.Config.Labels.tier], ['shop', 'web']],
    ['expose combined', (i: Docker.ContainerInspectInfo) => Object.keys(i.Config.ExposedPorts ?? {}).sort(), ['3000/tcp', '4000/tcp']],
  ])('%s', async (_name, read, expected) => {
    const info = await docker.getContainer(`${env}-web`).inspect();
    expect(read(info)).toEqual(expected);
  });

  it('depends_on of the base is not inherited (its unknown service would otherwise fail validation)', async () => {
    const planned = await repo.run('plan');
    expect(planned.code).toBe(0);
    expect(planned.stdout + planned.stderr).not.toMatch(/nowhere/);
  });
});

describe("compose's merge tags: !reset drops what the base passes on, !override replaces it whole", () => {
  it('reaches the container: no working_dir or user of the base, only its own environment and expose', async () => {
    const tagged = `apiVersion: stagecoach/v1
kind: Service
name: tagged
extends: { file: ../../shared/common.yml, service: app }
working_dir: !reset null
user: !reset
environment: !override { ONLY: tagged }
expose: !override ["5000"]
`;
    await repo.write('tagged.yaml', tagged);
    const applied = await repo.run('apply', [], hostSecrets);
    expect(applied.stderr + applied.stdout).toContain(`${env}: converged`);
    const info = await docker.getContainer(`${env}-tagged`).inspect();
    expect([info.Config.WorkingDir, info.Config.User]).toEqual(['', '']);
    expect(info.Config.Env.filter((e) => /^(TZ|PORT|MODE|ONLY)=/.test(e))).toEqual(['ONLY=tagged']);
    expect(Object.keys(info.Config.ExposedPorts ?? {})).toEqual(['5000/tcp']);
    // The base the other service shares is unchanged by it.
    const web = await docker.getContainer(`${env}-web`).inspect();
    expect([web.Config.WorkingDir, web.Config.User]).toEqual(['/srv', '1000:1000']);
  });
});

describe('binary repo files arrive byte for byte', () => {
  it.each([
    ['a relative bind of the base, rebased to shared/', '/assets/logo.bin'],
    ['a config from a repo file', '/etc/app/blob.bin'],
  ])('%s: sha256sum in the container and the archive API match the repo bytes', async (_name, path) => {
    expect((await exec(['sha256sum', path])).split(/\s+/)[0]).toBe(digest);
    expect(await archived(path)).toEqual(binary);
  });
});

describe('environment-level secrets', () => {
  it.each([
    ['external with name: reads the daemon host secret shop_api_key', '/run/secrets/api_key', apiKey],
    ['environment: SHOP_TLS reads the daemon host secret SHOP_TLS', '/run/secrets/tls.pem', tls],
  ])('%s', async (_name, path, value) => {
    expect(await exec(['cat', path])).toBe(value);
    const info = await docker.getContainer(`${env}-web`).inspect();
    expect(JSON.stringify([info.Config.Labels, info.Config.Env])).not.toContain(value);
  });
});

describe('extends refused before anything runs', () => {
  it('a base file outside the repo is named with the field and value; the running container stays', async () => {
    await repo.write('web.yaml', web.replace('../../shared/common.yml', '../../../outside.yml'));
    const planned = await repo.run('plan');
    expect(planned.code).not.toBe(0);
    expect(planned.stdout + planned.stderr).toMatch(/environments\/\w+\/web\.yaml:4:\d+: \/extends\/file must be a path inside the config repo, relative to environments\/\w+\/web\.yaml \(got "\.\.\/\.\.\/\.\.\/outside\.yml"\): refused, not read/);
    expect((await docker.getContainer(`${env}-web`).inspect()).State.Running).toBe(true);
    await repo.write('web.yaml', web);
  });
});
