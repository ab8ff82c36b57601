import { describe, expect, it } from 'vitest';
import { normalizeImagePolicy } from '../../../src/images/policy-field.js';
import type { RawImagePolicy } from '../../../src/images/policy-field.js';
import { loadOne, problemsOf, repoWith, serviceYaml } from '../manifest/support.js';

function run(raw: RawImagePolicy | undefined) {
  const problems: string[] = [];
  const policy = normalizeImagePolicy(raw, (path, message) => problems.push(`/${path.join('/')} ${message}`));
  return { policy, problems };
}

describe('normalizeImagePolicy', () => {
  it.each<[RawImagePolicy | undefined, unknown]>([
    [undefined, null],
    [{ semver: '^1.4' }, { kind: 'semver', range: '^1.4', prereleases: false, pinDigest: false }],
    [{ semver: '>=2 <3', prereleases: true, pin: 'digest' }, { kind: 'semver', range: '>=2 <3', prereleases: true, pinDigest: true }],
    [{ pattern: 'main-(\\d+)-[0-9a-f]+' }, { kind: 'pattern', pattern: 'main-(\\d+)-[0-9a-f]+', order: 'numeric', pinDigest: false }],
    [{ pattern: 'rel-([a-z]+)', order: 'alphabetical' }, { kind: 'pattern', pattern: 'rel-([a-z]+)', order: 'alphabetical', pinDigest: false }],
    [{ pin: 'digest' }, { kind: 'digest' }],
  ])('%j', (raw, expected) => {
    expect(run(raw)).toEqual({ policy: expected, problems: [] });
  });

  it.each<[RawImagePolicy, string]>([
    [{ semver: 'one point four' }, '/imagePolicy/semver is not a semver range like "^1.4" or ">=2 <3" (got "one point four")'],
    [{ pattern: '(a)\\1' }, '/imagePolicy/pattern is not a regular expression RE2 accepts'],
    [{ pattern: 'main-\\d+' }, '/imagePolicy/pattern has no capture group'],
  ])('reports %j', (raw, message) => {
    expect(run(raw).problems).toEqual([expect.stringContaining(message)]);
  });
});

describe('imagePolicy in a Service manifest', () => {
  it.each([
    ['imagePolicy:\n  semver: "^1.4"\n', []],
    ['imagePolicy:\n  pattern: main-(\\d+)-[0-9a-f]+\n  order: numeric\n  pin: digest\n', []],
    ['imagePolicy:\n  pin: digest\n', []],
    ['imagePolicy:\n  semver: "^1"\n  pattern: (\\d+)\n', ['environments/testing/web.yaml:6:3: /imagePolicy takes semver or pattern, not both']],
    ['imagePolicy: {}\n', ['environments/testing/web.yaml:5:14: /imagePolicy needs one of semver, pattern or pin']],
    ['imagePolicy:\n  semver: "^1"\n  order: numeric\n', [expect.stringMatching(/\/imagePolicy prereleases goes with semver, order with pattern/)]],
    ['imagePolicy:\n  semver: "^1"\n  pin: sha\n', [expect.stringMatching(/\/imagePolicy\/pin must be one of/)]],
    ['imagePolicy:\n  pattern: (a)\\1\n', [expect.stringMatching(/^environments\/testing\/web\.yaml:6:12: \/imagePolicy\/pattern is not a regular expression RE2 accepts/)]],
    ['imagePolicy:\n  semver: one\n', ['environments/testing/web.yaml:6:11: /imagePolicy/semver is not a semver range like "^1.4" or ">=2 <3" (got "one")']],
  ])('%s', async (extra, expected) => {
    expect(await problemsOf(repoWith({ 'environments/testing/web.yaml': serviceYaml('web', extra) }))).toEqual(expected);
  });

  it('is not part of the spec hash: adding a policy redeploys nothing', async () => {
    const plain = await loadOne(repoWith({}));
    const watched = await loadOne(repoWith({ 'environments/testing/web.yaml': serviceYaml('web', 'imagePolicy:\n  semver: "^1"\n') }));
    expect(watched.services[0]!.specHash).toBe(plain.services[0]!.specHash);
    expect(watched.services[0]!.imagePolicy).toEqual({ kind: 'semver', range: '^1', prereleases: false, pinDigest: false });
  });
});
