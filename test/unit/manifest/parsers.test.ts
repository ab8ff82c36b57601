import { describe, expect, it } from 'vitest';
import { findCycles } from '../../../src/manifest/cross-checks.js';
import { parseDuration } from '../../../src/manifest/duration.js';
import { canonicalImage, parseImageRef } from '../../../src/manifest/image-ref.js';
import { parseShortPort } from '../../../src/manifest/ports.js';
import { parseYamlFile } from '../../../src/manifest/parse.js';
import { parseSize } from '../../../src/manifest/size.js';
import { loadOne, repoWith, serviceYaml } from './support.js';

describe('ports (compose short syntax)', () => {
  it.each([
    ['80', [{ target: 80, published: null, hostIp: '', protocol: 'tcp' }]],
    ['8080:80', [{ target: 80, published: 8080, hostIp: '', protocol: 'tcp' }]],
    ['127.0.0.1:8080:80/udp', [{ target: 80, published: 8080, hostIp: '127.0.0.1', protocol: 'udp' }]],
    ['127.0.0.1::80', [{ target: 80, published: null, hostIp: '127.0.0.1', protocol: 'tcp' }]],
    ['[::1]:8080:80', [{ target: 80, published: 8080, hostIp: '::1', protocol: 'tcp' }]],
    [
      '9090-9091:8080-8081',
      [
        { target: 8080, published: 9090, hostIp: '', protocol: 'tcp' },
        { target: 8081, published: 9091, hostIp: '', protocol: 'tcp' },
      ],
    ],
  ])('%s', (input, bindings) => {
    expect(parseShortPort(input)).toEqual({ ok: true, bindings });
  });

  it.each([
    ['0:80', 'host port "0" is not a port number 1-65535 or a range'],
    ['9090-9092:8080-8081', 'host range 9090-9092 and container range 8080-8081 differ in length'],
    ['localhost:80:80', 'host address "localhost" is not an IP address'],
    ['1-5000', 'range of 5000 ports is larger than 1000'],
  ])('rejects %s', (input, reason) => {
    expect(parseShortPort(input)).toEqual({ ok: false, reason });
  });
});

describe('image references', () => {
  it.each([
    ['busybox', { registry: undefined, repository: 'busybox', tag: undefined, digest: undefined }, 'busybox:latest'],
    ['library/busybox:1.35', { registry: undefined, repository: 'library/busybox', tag: '1.35', digest: undefined }, 'library/busybox:1.35'],
    ['127.0.0.1:5000/shop/web:1.4.2', { registry: '127.0.0.1:5000', repository: 'shop/web', tag: '1.4.2', digest: undefined }, '127.0.0.1:5000/shop/web:1.4.2'],
    ['localhost/web', { registry: 'localhost', repository: 'web', tag: undefined, digest: undefined }, 'localhost/web:latest'],
    [`ghcr.io/a/b@sha256:${'0'.repeat(64)}`, { registry: 'ghcr.io', repository: 'a/b', tag: undefined, digest: `sha256:${'0'.repeat(64)}` }, `ghcr.io/a/b@sha256:${'0'.repeat(64)}`],
  ])('%s', (input, ref, canonical) => {
    const parsed = parseImageRef(input);
    expect(parsed).toEqual({ ok: true, ref });
    if (parsed.ok) expect(canonicalImage(parsed.ref)).toBe(canonical);
  });

  it.each([
    ['', 'is empty'],
    ['busy box', 'contains whitespace'],
    ['web//x', 'repository "web//x" is malformed (lowercase letters, digits and separators \'.\', \'_\', \'__\', \'-\' between them, components joined by \'/\')'],
    [':1.0', 'has no repository name'],
    [`busybox@sha256:${'A'.repeat(64)}`, 'has a malformed sha256 digest (expected 64 lowercase hex digits)'],
  ])('rejects %j', (input, reason) => {
    expect(parseImageRef(input)).toEqual({ ok: false, reason });
  });
});

describe('durations and sizes', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['10 s', undefined],
    ['5', undefined],
  ])('%s → %s ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['256m', 256 * 1024 ** 2],
    ['1g', 1024 ** 3],
    ['1.5k', 1536],
    [4194304, 4194304],
    ['lots', undefined],
  ])('%s → %s bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });
});

describe('dependency cycles', () => {
  it.each([
    ['none', { a: ['b'], b: ['c'], c: [] }, []],
    ['a diamond is not a cycle', { a: ['b', 'c'], b: ['d'], c: ['d'], d: [] }, []],
    ['a loop of three, from its first name', { c: ['a'], a: ['b'], b: ['c'] }, [['a', 'b', 'c']]],
    ['two separate loops', { a: ['b'], b: ['a'], x: ['y'], y: ['x'] }, [['a', 'b'], ['x', 'y']]],
  ])('%s', (_name, graph, cycles) => {
    expect(findCycles(new Map(Object.entries(graph)))).toEqual(cycles);
  });
});

describe('normalized services', () => {
  it('fills defaults and forces stop-first when a fixed host port is published', async () => {
    const env = await loadOne(repoWith({ 'environments/testing/web.yaml': serviceYaml('web', 'ports: ["127.0.0.1:8080:80"]\n') }));
    const web = env.services[0]!;
    expect(web).toMatchObject({ replicas: 1, updateOrder: 'stop-first', updateOrderForced: true, pullPolicy: 'missing', dependsOn: {} });
    expect(web.spec).toMatchObject({ image: 'busybox:1.35', restart: 'unless-stopped', stopGraceMs: 10_000, healthcheck: null, command: null });
  });

  it('keeps start-first without fixed ports, and reads depends_on lists and maps', async () => {
    const env = await loadOne(
      repoWith({
        'environments/testing/db.yaml': serviceYaml('db'),
        'environments/testing/web.yaml': serviceYaml('web', 'depends_on:\n  db: { condition: service_started }\n'),
        'environments/testing/worker.yaml': serviceYaml('worker', 'depends_on: [db, web]\n'),
      }),
    );
    const byName = Object.fromEntries(env.services.map((s) => [s.name, s]));
    expect(byName.web).toMatchObject({ updateOrder: 'start-first', updateOrderForced: false, dependsOn: { db: 'service_started' } });
    expect(byName.worker!.dependsOn).toEqual({ db: 'service_healthy', web: 'service_healthy' });
  });

  it('reads several services from one multi-document file', async () => {
    const env = await loadOne({
      'environments/testing/all.yml': [`apiVersion: stagecoach/v1\nkind: Environment\nname: testing\n`, serviceYaml('a'), serviceYaml('b'), ''].join('---\n'),
    });
    expect(env.services.map((s) => [s.name, s.file, s.line])).toEqual([
      ['a', 'environments/testing/all.yml', 5],
      ['b', 'environments/testing/all.yml', 10],
    ]);
  });
});

describe('file modes (compose reads a leading 0 as octal)', () => {
  it.each<[string, unknown]>([
    ['mode: 0400', 0o400],
    ['mode: 0o440', 0o440],
    ['mode: 0x1ff', 0o777],
    ['mode: 400', 400],
    ['mode: "0400"', '0400'],
    ['other: 0400', 400],
    ['mode: 0800', 800],
  ])('%s', (line, want) => {
    const { documents, problems } = parseYamlFile('environments/testing/web.yaml', `secrets:\n  - source: token\n    ${line}\n`);
    expect(problems).toEqual([]);
    const [entry] = (documents[0]!.value as { secrets: Record<string, unknown>[] }).secrets;
    expect(Object.values(entry!).at(-1)).toBe(want);
  });
});
