import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigRepo } from './helpers/cli.js';
import { BASE_IMAGE, removeByLabel, requireDocker, requireImage, uniqueName } from './helpers/docker.js';

// Files from the config repo, compose configs and secrets become files in the
// container, copied in through the API before start; secret values stay out of labels and env.
const env = uniqueName('composefiles').replace(/[-.]/g, '');
const secretValue = `s3cret-${Math.random().toString(36).slice(2)}`;
// A secret file on the daemon host that is not text and ends in a newline (a keystore, a DER key): it must arrive byte for byte.
const keystore = Buffer.from([0x30, 0x82, 0x01, 0xff, 0x00, 0xc3, 0x28, 0xfe, 0x0a]);
const secretsDir = mkdtempSync(path.join(tmpdir(), 'stagecoach-composefiles-secrets-'));
writeFileSync(path.join(secretsDir, 'keystore'), keystore);
const secretEnv = { [`STAGECOACH_SECRET_${'db_password'.toUpperCase()}`]: secretValue, STAGECOACH_SECRETS_DIR: secretsDir };
let docker: Docker;
let repo: ConfigRepo;

const service = (conf: string) => `apiVersion: stagecoach/v1
kind: Service
name: proxy
image: ${BASE_IMAGE}
init: true
stop_grace_period: 1s
command: ["sleep", "3600"]
volumes:
  - ./proxy/app.conf:/etc/app/app.conf:ro
configs:
  - motd
  - source: limits
    target: /etc/app/limits.conf
    mode: 0440 # unquoted, as compose files write it: octal
secrets:
  - db_password
  - source: keystore
    target: /etc/app/keystore.p12
x-conf: "${conf}"
`;

async function cat(file: string, ...args: string[]): Promise<string> {
  const exec = await docker.getContainer(`${env}-proxy`).exec({ Cmd: args.length ? [...args, file] : ['cat', file], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).subarray(8).toString('utf8');
}

beforeAll(async () => {
  docker = await requireDocker();
  await requireImage(docker);
  repo = await ConfigRepo.create(env, 'configs:\n  motd:\n    content: "welcome\\n"\n  limits:\n    file: limits.conf\n');
  await repo.write('limits.conf', 'max_conn 100\n');
  await repo.write('proxy/app.conf', 'listen 8080\n');
  await repo.write('proxy.yaml', service('v1'));
  const applied = await repo.run('apply', [], secretEnv);
  expect(applied.stderr + applied.stdout).toContain(`${env}: converged`);
});

afterAll(async () => {
  await removeByLabel(docker, 'io.stagecoach.environment', env);
  await repo?.dispose();
  rmSync(secretsDir, { recursive: true, force: true });
});

describe('files from the repo, configs and secrets', () => {
  it.each([
    ['a relative bind of a repo file', '/etc/app/app.conf', 'listen 8080\n'],
    ['an inline config at /<name>', '/motd', 'welcome\n'],
    ['a config from a repo file at its target', '/etc/app/limits.conf', 'max_conn 100\n'],
    ['a secret under /run/secrets', '/run/secrets/db_password', secretValue],
  ])('%s', async (_name, path, content) => {
    expect(await cat(path)).toBe(content);
  });

  it('a secret file arrives byte for byte: not decoded as text, its trailing newline kept (as compose mounts it)', async () => {
    const hex = (await cat('/etc/app/keystore.p12', 'od', '-An', '-v', '-tx1')).split(/\s+/).filter(Boolean).join('');
    expect(hex).toBe(keystore.toString('hex'));
  });

  it('keeps modes and never puts the secret value in labels or env', async () => {
    expect((await cat('/etc/app/limits.conf')).length).toBeGreaterThan(0);
    const info = await docker.getContainer(`${env}-proxy`).inspect();
    expect(JSON.stringify(info.Config.Labels)).not.toContain(secretValue);
    expect(JSON.stringify(info.Config.Env)).not.toContain(secretValue);
    const exec = await docker.getContainer(`${env}-proxy`).exec({ Cmd: ['stat', '-c', '%a', '/etc/app/limits.conf', '/etc/app/app.conf'], AttachStdout: true });
    const chunks: Buffer[] = [];
    for await (const chunk of await exec.start({})) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString('utf8')).toMatch(/440\n[\s\S]*444/);
  });

  it('a changed repo file replaces the container with the new content', async () => {
    await repo.write('proxy/app.conf', 'listen 9090\n');
    const planned = await repo.run('plan', [], secretEnv);
    expect(planned.stdout).toContain('spec changed: files');
    const applied = await repo.run('apply', [], secretEnv);
    expect(applied.stderr + applied.stdout).toContain(`${env}: converged`);
    expect(await cat('/etc/app/app.conf')).toBe('listen 9090\n');
  });
});
