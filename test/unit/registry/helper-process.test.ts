import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processCredentialHelper } from '../../../src/registry/helper-process.js';
import { hostCredentials } from '../../../src/registry/host-credentials.js';
import { registryAuthFor } from '../../../src/runtime/registry-auth.js';

// A credential helper speaking the docker-credential-helpers protocol: `get`
// reads the server address on stdin, prints {"ServerURL","Username","Secret"},
// or "credentials not found in native keychain" with exit 1.
const helperScript = `#!/bin/sh
[ "$1" = get ] || { echo "unknown action $1" >&2; exit 3; }
read -r server
case "$server" in
  127.0.0.1:5000) printf '{"ServerURL":"%s","Username":"ci","Secret":"from-helper"}' "$server" ;;
  tok.example.com) printf '{"ServerURL":"%s","Username":"<token>","Secret":"refresh-me"}' "$server" ;;
  broken.example.com) echo "keychain locked" >&2; exit 2 ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stagecoach-helper-'));
  await writeFile(path.join(dir, 'docker-credential-fake'), helperScript);
  await chmod(path.join(dir, 'docker-credential-fake'), 0o755);
  await writeFile(path.join(dir, 'config.json'), JSON.stringify({ credsStore: 'fake', credHelpers: { 'nohelper.example.com': 'absent' }, auths: { 'plain.example.com': { auth: Buffer.from('u:p').toString('base64') } } }));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const helper = () => processCredentialHelper({ env: { PATH: `${dir}:/usr/bin:/bin` } });

describe('processCredentialHelper', () => {
  it('reads Username and Secret', async () => {
    expect(await helper()('fake', '127.0.0.1:5000')).toEqual({ Username: 'ci', Secret: 'from-helper' });
  });

  it('is undefined when the helper knows nothing', async () => {
    expect(await helper()('fake', 'elsewhere.example.com')).toBeUndefined();
  });

  it('fails naming the helper and its message when it breaks', async () => {
    await expect(helper()('fake', 'broken.example.com')).rejects.toThrow('registry credentials for broken.example.com: docker-credential-fake get exited 2: keychain locked');
  });

  it('says the helper is not installed', async () => {
    await expect(helper()('absent', 'x.example.com')).rejects.toThrow('docker-credential-absent is not installed on the daemon host');
  });

  it('refuses a helper name that is a path', async () => {
    await expect(helper()('../../bin/sh', 'x')).rejects.toThrow(/not a plain name/);
  });
});

describe('host credentials through the Docker config', () => {
  it.each([
    ['127.0.0.1:5000', { kind: 'basic', username: 'ci', password: 'from-helper', source: 'docker-credential-fake' }],
    ['tok.example.com', { kind: 'identity-token', token: 'refresh-me', source: 'docker-credential-fake' }],
    ['plain.example.com', { kind: 'basic', username: 'u', password: 'p', source: 'auths["plain.example.com"]' }],
    ['unknown.example.com', undefined],
  ])('%s', async (host, expected) => {
    expect(await hostCredentials(path.join(dir, 'config.json'), helper())(host)).toEqual(expected);
  });

  it('is anonymous without a config file', async () => {
    expect(await hostCredentials(path.join(dir, 'missing.json'), helper())('127.0.0.1:5000')).toBeUndefined();
  });
});

describe('deploy pulls use the same resolution', () => {
  it.each([
    ['127.0.0.1:5000/app:1.0.1', { username: 'ci', password: 'from-helper', serveraddress: '127.0.0.1:5000' }],
    ['tok.example.com/app:1', { identitytoken: 'refresh-me', serveraddress: 'tok.example.com' }],
    ['busybox:1.35', undefined],
  ])('%s', async (ref, expected) => {
    expect(await registryAuthFor(ref, path.join(dir, 'config.json'), 'unix:///var/run/docker.sock', helper())).toEqual(expected);
  });

  it('a missing helper fails the pull with a clear DockerError', async () => {
    await expect(registryAuthFor('nohelper.example.com/app:1', path.join(dir, 'config.json'), 'unix:///d.sock', helper())).rejects.toThrow('docker at unix:///d.sock: cannot pull image nohelper.example.com/app:1: registry credentials for nohelper.example.com: docker-credential-absent is not installed on the daemon host');
  });
});
