// The registry client, credentials and deploy pulls against real registries:
// Debian's docker-registry without auth, behind htpasswd basic auth, and with
// token auth and a token issuer; images pushed by the real engine.
import type Docker from 'dockerode';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryError } from '../../src/errors.js';
import { checkImage } from '../../src/images/check.js';
import { RegistryClient } from '../../src/registry/client.js';
import { processCredentialHelper } from '../../src/registry/helper-process.js';
import { hostCredentials } from '../../src/registry/host-credentials.js';
import { DockerRuntime } from '../../src/runtime/docker-runtime.js';
import { requireDocker, uniqueName } from './helpers/docker.js';
import { LocalRegistry, variantImage } from './helpers/registry.js';

let docker: Docker;
let open: LocalRegistry;
let basic: LocalRegistry;
let token: LocalRegistry;
let scratch: string;
const digests: Record<string, string> = {};
const variant = uniqueName('stagecoach-registry-variant');

beforeAll(async () => {
  docker = await requireDocker();
  scratch = await mkdtemp(path.join(tmpdir(), 'stagecoach-registry-test-'));
  [open, basic, token] = await Promise.all([LocalRegistry.start('none'), LocalRegistry.start('basic'), LocalRegistry.start('token')]);
  await variantImage(docker, `${variant}:latest`, 'two');
  for (const r of [open, basic, token]) {
    for (const tag of ['1.0.0', '1.0.1', '2.0.0']) digests[`${r.host}/app:${tag}`] = await r.push(docker, `app:${tag}`);
  }
  digests[`${open.host}/app:latest`] = await open.push(docker, 'app:latest', `${variant}:latest`);
}, 120_000);

afterAll(async () => {
  await Promise.all([open, basic, token].filter(Boolean).map((r) => r.stop()));
  await docker?.getImage(`${variant}:latest`).remove({ force: true }).catch(() => undefined);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<RegistryError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(RegistryError);
  return e as RegistryError;
}

async function configFile(content: object): Promise<string> {
  const file = path.join(scratch, `${uniqueName('config')}.json`);
  await writeFile(file, JSON.stringify(content));
  return file;
}

describe('without auth', () => {
  it('lists every tag, across real Link pages', async () => {
    const client = new RegistryClient({ credentials: async () => undefined, pageSize: 2 });
    expect((await client.listTags(`${open.host}/app`)).sort()).toEqual(['1.0.0', '1.0.1', '2.0.0', 'latest']);
  });

  it("reads the registry's own digests, and a different one for a different image", async () => {
    const client = new RegistryClient({ credentials: async () => undefined });
    expect(await client.manifestDigest(`${open.host}/app:1.0.1`)).toBe(digests[`${open.host}/app:1.0.1`]);
    expect(await client.manifestDigest(`${open.host}/app:latest`)).toBe(digests[`${open.host}/app:latest`]);
    expect(digests[`${open.host}/app:latest`]).not.toBe(digests[`${open.host}/app:1.0.1`]);
  });

  it('picks 1.0.1 for ^1 and ignores 2.0.0', async () => {
    const client = new RegistryClient({ credentials: async () => undefined });
    const result = await checkImage('web', `${open.host}/app:1.0.0`, { kind: 'semver', range: '^1', prereleases: false, pinDigest: false }, client);
    expect(result).toMatchObject({ next: `${open.host}/app:1.0.1`, newestAllowed: `${open.host}/app:1.0.1` });
  });

  it('says a missing repository is not found, not transient', async () => {
    const error = await failure(new RegistryClient({ credentials: async () => undefined }).listTags(`${open.host}/nothing-here`));
    expect(error.message).toBe(`registry ${open.host}, repository nothing-here: cannot list tags: not found (404); check the image name`);
    expect(error.transient).toBe(false);
  });

  it('says a stopped registry is unreachable, transient', async () => {
    const gone = await LocalRegistry.start('none');
    await gone.stop();
    const error = await failure(new RegistryClient({ credentials: async () => undefined }).listTags(`${gone.host}/app`));
    expect(error.message).toMatch(new RegExp(`^registry ${gone.host.replace(/\./g, '\\.')}, repository app: cannot list tags: ECONNREFUSED; is the registry running`));
    expect(error.transient).toBe(true);
  });
});

describe('htpasswd basic auth', () => {
  it('uses the auths entry of the host Docker config', async () => {
    const client = new RegistryClient({ credentials: hostCredentials(await basic.dockerConfig()) });
    expect((await client.listTags(`${basic.host}/app`)).sort()).toEqual(['1.0.0', '1.0.1', '2.0.0']);
    expect(await client.manifestDigest(`${basic.host}/app:2.0.0`)).toBe(digests[`${basic.host}/app:2.0.0`]);
  });

  it('uses a credsStore helper speaking the helper protocol', async () => {
    const bin = path.join(scratch, 'bin');
    await writeFile(path.join(scratch, 'placeholder'), '');
    await rm(bin, { recursive: true, force: true });
    await (await import('node:fs/promises')).mkdir(bin);
    await writeFile(path.join(bin, 'docker-credential-testvault'), `#!/bin/sh\nread -r server\nif [ "$1" = get ] && [ "$server" = "${basic.host}" ]; then printf '{"ServerURL":"%s","Username":"${basic.user.username}","Secret":"${basic.user.password}"}' "$server"; else echo "credentials not found in native keychain"; exit 1; fi\n`);
    await chmod(path.join(bin, 'docker-credential-testvault'), 0o755);
    const config = await configFile({ credsStore: 'testvault' });
    const client = new RegistryClient({ credentials: hostCredentials(config, processCredentialHelper({ env: { PATH: `${bin}:/usr/bin:/bin` } })) });
    expect(await client.manifestDigest(`${basic.host}/app:1.0.0`)).toBe(digests[`${basic.host}/app:1.0.0`]);
  });

  it('a wrong password is a clear, non-transient error that names the registry and what to do, never the password', async () => {
    const client = new RegistryClient({ credentials: hostCredentials(await basic.dockerConfig('wrong-password')) });
    const error = await failure(client.listTags(`${basic.host}/app`));
    expect(error.message).toMatch(new RegExp(`^registry ${basic.host.replace(/\./g, '\\.')}, repository app: cannot list tags: the registry refused the credentials from auths\\["${basic.host.replace(/\./g, '\\.')}"\\] \\(401\\); run \`docker login ${basic.host.replace(/\./g, '\\.')}\` on the daemon host$`));
    expect(error.transient).toBe(false);
    expect(error.message).not.toContain('wrong-password');
  });

  it('no credentials at all says how to add them', async () => {
    const error = await failure(new RegistryClient({ credentials: async () => undefined }).listTags(`${basic.host}/app`));
    expect(error.message).toContain(`needs a login and the daemon host has none for it; run \`docker login ${basic.host}\``);
  });

  it('deploy pulls resolve the same credentials (DockerRuntime reads the host config)', async () => {
    const runtime = new DockerRuntime(docker, 'unix:///var/run/docker.sock', await basic.dockerConfig());
    const ref = `${basic.host}/app:1.0.1`;
    try {
      await runtime.pullImage(ref);
      const inspected = await docker.getImage(ref).inspect();
      expect(inspected.RepoDigests).toContain(`${basic.host}/app@${digests[ref]}`);
    } finally {
      await docker.getImage(ref).remove({ noprune: true }).catch(() => undefined);
    }
    const wrong = new DockerRuntime(docker, 'unix:///var/run/docker.sock', await basic.dockerConfig('wrong-password'));
    await expect(wrong.pullImage(`${basic.host}/app:1.0.0`)).rejects.toThrow(/access denied|unauthorized|no basic auth/i);
  });
});

describe('token auth (bearer challenge, token issuer)', () => {
  it('gets a token from the realm with the host credentials and reads tags and digests', async () => {
    const client = new RegistryClient({ credentials: hostCredentials(await token.dockerConfig()) });
    expect((await client.listTags(`${token.host}/app`)).sort()).toEqual(['1.0.0', '1.0.1', '2.0.0']);
    expect(await client.manifestDigest(`${token.host}/app:1.0.1`)).toBe(digests[`${token.host}/app:1.0.1`]);
  });

  it('a wrong password is refused by the token server, clearly', async () => {
    const client = new RegistryClient({ credentials: hostCredentials(await token.dockerConfig('nope')) });
    const error = await failure(client.manifestDigest(`${token.host}/app:1.0.1`));
    expect(error.message).toMatch(/^registry 127\.0\.0\.1:\d+, repository app: token server http:\/\/127\.0\.0\.1:\d+ refused the credentials from auths\["127\.0\.0\.1:\d+"\]; run `docker login 127\.0\.0\.1:\d+` on the daemon host$/);
    expect(error.transient).toBe(false);
  });
});
