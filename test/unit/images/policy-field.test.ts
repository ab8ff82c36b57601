import { describe, expect, it } from 'vitest';
import { normalizeImagePolicy } from '../../../src/images/policy-field.js';
import type { RawImagePolicy } from '../../../src/images/policy-field.js';

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
    [{ pattern: '(a)\\1' }, '/imagePolicy/pattern is not a pattern RE2 accepts'],
    [{ pattern: 'main-\\d+' }, '/imagePolicy/pattern has no capture group'],
  ])('reports %j', (raw, message) => {
    expect(run(raw).problems).toEqual([expect.stringContaining(message)]);
  });
});
