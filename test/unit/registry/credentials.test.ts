import { describe, expect, it } from 'vitest';
import { configKeys, parseDockerConfig, resolveCredentials } from '../../../src/registry/credentials.js';
import type { CredentialHelper, DockerConfig } from '../../../src/registry/credentials.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A fake helper set: helper name → server address → answer. Records every call. */
function fakeHelpers(store: Record<string, Record<string, { Username: string; Secret: string }>>) {
  const calls: string[] = [];
  const helper: CredentialHelper = async (name, server) => {
    calls.push(`${name} ${server}`);
    return store[name]?.[server];
  };
  return { helper, calls };
}

describe('resolveCredentials', () => {
  it.each<[string, DockerConfig, string, unknown]>([
    ['auths by host', { auths: { 'reg.example.com': { auth: b64('ci:s3cret') } } }, 'reg.example.com', { kind: 'basic', username: 'ci', password: 's3cret', source: 'auths["reg.example.com"]' }],
    ['auths by https URL', { auths: { 'https://reg.example.com': { auth: b64('ci:a:b') } } }, 'reg.example.com', { kind: 'basic', username: 'ci', password: 'a:b', source: 'auths["https://reg.example.com"]' }],
    ['Docker Hub under its v1 key', { auths: { 'https://index.docker.io/v1/': { auth: b64('me:pw') } } }, 'docker.io', { kind: 'basic', username: 'me', password: 'pw', source: 'auths["https://index.docker.io/v1/"]' }],
    ['identity token', { auths: { 'reg.example.com': { identitytoken: 'refresh' } } }, 'reg.example.com', { kind: 'identity-token', token: 'refresh', source: 'auths["reg.example.com"]' }],
    ['other registry only', { auths: { 'other.example.com': { auth: b64('x:y') } } }, 'reg.example.com', undefined],
    ['credHelpers wins over auths', { credHelpers: { 'reg.example.com': 'ecr' }, auths: { 'reg.example.com': { auth: b64('old:old') } } }, 'reg.example.com', { kind: 'basic', username: 'AWS', password: 'from-ecr', source: 'docker-credential-ecr' }],
    ['credsStore for everything', { credsStore: 'desktop' }, '127.0.0.1:5000', { kind: 'basic', username: 'dev', password: 'from-desktop', source: 'docker-credential-desktop' }],
    ['helper token user means identity token', { credsStore: 'tok' }, 'reg.example.com', { kind: 'identity-token', token: 'rt', source: 'docker-credential-tok' }],
    ['helper knows nothing: fall back to auths', { credsStore: 'desktop', auths: { 'reg.example.com': { auth: b64('a:b') } } }, 'reg.example.com', { kind: 'basic', username: 'a', password: 'b', source: 'auths["reg.example.com"]' }],
  ])('%s', async (_name, config, host, expected) => {
    const { helper } = fakeHelpers({
      ecr: { 'reg.example.com': { Username: 'AWS', Secret: 'from-ecr' } },
      desktop: { '127.0.0.1:5000': { Username: 'dev', Secret: 'from-desktop' } },
      tok: { 'reg.example.com': { Username: '<token>', Secret: 'rt' } },
    });
    expect(await resolveCredentials(host, config, helper)).toEqual(expected);
  });

  it('asks the per-registry helper, not the store, when both are set', async () => {
    const { helper, calls } = fakeHelpers({ ecr: { 'reg.example.com': { Username: 'AWS', Secret: 'x' } } });
    await resolveCredentials('reg.example.com', { credsStore: 'desktop', credHelpers: { 'reg.example.com': 'ecr' } }, helper);
    expect(calls).toEqual(['ecr reg.example.com']);
  });

  it('refuses an auth entry that is not user:password, naming host and key', async () => {
    await expect(resolveCredentials('r.example.com', { auths: { 'r.example.com': { auth: b64('nocolon') } } }, fakeHelpers({}).helper)).rejects.toThrow(/r\.example\.com: auths\["r\.example\.com"\]\.auth is not base64/);
  });

  it('lists the Docker Hub keys for every Hub host name', () => {
    expect(configKeys('registry-1.docker.io')[0]).toBe('https://index.docker.io/v1/');
  });

  it('names the file when the config is not JSON', () => {
    expect(() => parseDockerConfig('{nope', '/root/.docker/config.json')).toThrow(/\/root\/\.docker\/config\.json is not valid JSON/);
    expect(() => parseDockerConfig('[]', '/c.json')).toThrow(/not a JSON object/);
  });
});
