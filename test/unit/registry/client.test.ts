import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RegistryError } from '../../../src/errors.js';
import { RateLimitedError, RegistryClient } from '../../../src/registry/client.js';
import type { RegistryCredentials } from '../../../src/registry/credentials.js';
import { fakeRegistry } from '../../support/fake-registry.js';
import type { FakeRegistryOptions } from '../../support/fake-registry.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const repos = { app: { '1.0.0': d('a'), '1.0.1': d('b'), '2.0.0': d('c'), latest: d('c') } };

function client(options: FakeRegistryOptions, creds?: RegistryCredentials) {
  const registry = fakeRegistry(options);
  const sleeps: number[] = [];
  const c = new RegistryClient({
    fetch: registry.fetch,
    credentials: async () => creds,
    sleep: async (ms) => void sleeps.push(ms),
    now: () => Date.parse('2026-11-29T10:00:00Z'),
  });
  return { c, sleeps, requests: registry.requests };
}

async function failure(p: Promise<unknown>): Promise<RegistryError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(RegistryError);
  return e as RegistryError;
}

const basicCreds: RegistryCredentials = { kind: 'basic', username: 'ci', password: 'pw', source: 'auths["127.0.0.1:5000"]' };

describe('RegistryClient', () => {
  it('lists tags across Link pages', async () => {
    const { c, requests } = client({ repos, pageSize: 2 });
    expect(await c.listTags('127.0.0.1:5000/app:1.0.0')).toEqual(['1.0.0', '1.0.1', '2.0.0', 'latest']);
    expect(requests.map((r) => r.url)).toEqual([
      'http://127.0.0.1:5000/v2/app/tags/list?n=1000',
      'http://127.0.0.1:5000/v2/app/tags/list?n=2&last=1.0.1',
    ]);
  });

  it('reads a digest with HEAD, asking for indexes and manifests of both families', async () => {
    const { c, requests } = client({ repos });
    expect(await c.manifestDigest('127.0.0.1:5000/app:latest')).toBe(d('c'));
    expect(requests).toHaveLength(1);
    expect(requests[0]!.method).toBe('HEAD');
    for (const type of ['oci.image.index.v1+json', 'docker.distribution.manifest.list.v2+json', 'oci.image.manifest.v1+json', 'docker.distribution.manifest.v2+json']) expect(requests[0]!.accept).toContain(type);
  });

  it('hashes the manifest when HEAD carries no digest header', async () => {
    const { c } = client({ repos, noDigestHeader: true });
    expect(await c.manifestDigest('127.0.0.1:5000/app:1.0.0')).toBe(`sha256:${createHash('sha256').update(`{"manifest":"${d('a')}"}`).digest('hex')}`);
  });

  it('answers a basic challenge with the host credentials', async () => {
    const { c, requests } = client({ repos, auth: { mode: 'basic', user: 'ci', password: 'pw' } }, basicCreds);
    expect(await c.listTags('127.0.0.1:5000/app')).toHaveLength(4);
    expect(requests.map((r) => r.authorization?.split(' ')[0])).toEqual([undefined, 'Basic']);
  });

  it('gets a bearer token for the challenged scope, then reuses it', async () => {
    const { c, requests } = client({ repos, auth: { mode: 'bearer', realm: 'https://auth.example.com/token', user: 'ci', password: 'pw' } }, basicCreds);
    await c.listTags('127.0.0.1:5000/app');
    await c.manifestDigest('127.0.0.1:5000/app:1.0.1');
    expect(requests.map((r) => `${r.method} ${r.url.replace(/\?.*/, '')} ${r.authorization?.split(' ')[0] ?? '-'}`)).toEqual([
      'GET http://127.0.0.1:5000/v2/app/tags/list -',
      'GET https://auth.example.com/token Basic',
      'GET http://127.0.0.1:5000/v2/app/tags/list Bearer',
      'HEAD http://127.0.0.1:5000/v2/app/manifests/1.0.1 Bearer',
    ]);
    expect(new URL(requests[1]!.url).searchParams.get('scope')).toBe('repository:app:pull');
    expect(new URL(requests[1]!.url).searchParams.get('service')).toBe('fake');
  });

  it('asks the token server anonymously when the host has no credentials', async () => {
    const { c } = client({ repos, auth: { mode: 'bearer', realm: 'https://auth.example.com/token' } });
    expect(await c.manifestDigest('127.0.0.1:5000/app:1.0.0')).toBe(d('a'));
  });

  it('waits out Retry-After on 429 and tries again', async () => {
    const { c, sleeps } = client({ repos, queue: [{ status: 429, headers: { 'retry-after': '3' } }, { status: 503 }] });
    expect(await c.manifestDigest('127.0.0.1:5000/app:1.0.0')).toBe(d('a'));
    expect(sleeps).toEqual([3000, 1000]);
  });

  it.each<[string, FakeRegistryOptions, RegistryCredentials | undefined, RegExp, boolean]>([
    ['wrong password (basic)', { repos, auth: { mode: 'basic', user: 'ci', password: 'right' } }, basicCreds, /registry 127\.0\.0\.1:5000, repository app: cannot list tags: the registry refused the credentials from auths\["127\.0\.0\.1:5000"\] \(401\); run `docker login 127\.0\.0\.1:5000` on the daemon host/, false],
    ['no credentials (basic)', { repos, auth: { mode: 'basic', user: 'ci', password: 'pw' } }, undefined, /needs a login and the daemon host has none for it; run `docker login 127\.0\.0\.1:5000`/, false],
    ['wrong password (token server)', { repos, auth: { mode: 'bearer', realm: 'https://auth.example.com/token', user: 'ci', password: 'right' } }, basicCreds, /token server https:\/\/auth\.example\.com refused the credentials from auths/, false],
    ['unknown repository', { repos: {} }, undefined, /repository app: cannot list tags: not found \(404\); check the image name/, false],
    ['rate limit longer than we wait', { repos, queue: [{ status: 429, headers: { 'retry-after': '3600' } }] }, undefined, /rate-limited \(429, Retry-After 3600 s\) after 1 tries; stagecoach tries again on the next poll/, true],
    ['server errors every time', { repos, queue: [{ status: 502 }, { status: 502 }, { status: 502 }, { status: 502 }] }, undefined, /answered 502 after 4 tries/, true],
  ])('%s', async (_name, options, creds, message, transient) => {
    const error = await failure(client(options, creds).c.listTags('127.0.0.1:5000/app'));
    expect(error.message).toMatch(message);
    expect(error.transient).toBe(transient);
    expect(error.message).not.toContain('right');
  });

  it('a Retry-After longer than it waits comes back as RateLimitedError with the wait', async () => {
    const error = await failure(client({ repos, queue: [{ status: 429, headers: { 'retry-after': '120' } }] }).c.listTags('127.0.0.1:5000/app'));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(120_000);
  });

  it('says the registry is unreachable, transient', async () => {
    const c = new RegistryClient({ credentials: async () => undefined, fetch: async () => { throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }); } });
    const error = await failure(c.listTags('127.0.0.1:5000/app'));
    expect(error.message).toBe('registry 127.0.0.1:5000, repository app: cannot list tags: ECONNREFUSED; is the registry running and is 127.0.0.1:5000 the right host and port?');
    expect(error.transient).toBe(true);
  });

  it('speaks HTTPS to non-loopback registries and maps Hub names', async () => {
    const seen: string[] = [];
    const c = new RegistryClient({ credentials: async () => undefined, fetch: async (u) => { seen.push(String(u)); return Response.json({ tags: [] }); } });
    await c.listTags('busybox');
    await c.listTags('reg.example.com/team/app:1');
    expect(seen).toEqual(['https://registry-1.docker.io/v2/library/busybox/tags/list?n=1000', 'https://reg.example.com/v2/team/app/tags/list?n=1000']);
  });
});
