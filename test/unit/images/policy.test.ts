import { describe, expect, it } from 'vitest';
import { chooseTag, compilePolicyPattern, describePolicy } from '../../../src/images/policy.js';
import type { ImagePolicy } from '../../../src/images/policy.js';

const sv = (range: string, prereleases = false): ImagePolicy => ({ kind: 'semver', range, prereleases, pinDigest: false });
const pat = (pattern: string, order: 'numeric' | 'alphabetical' = 'numeric'): ImagePolicy => ({ kind: 'pattern', pattern, order, pinDigest: false });
const tags = ['1.0.0', '1.0.1', '1.4.0', '1.4.7', '1.5.0-rc.1', '1.10.2', '2.0.0', 'v1.11.0', 'latest', 'main-17-abc', '1.x', 'sha-1234'];

describe('chooseTag', () => {
  it.each<[string, ImagePolicy, string | undefined, string[], unknown]>([
    ['newest in ^1 (numeric, not alphabetical: 1.10 > 1.4; v prefix read)', sv('^1'), '1.0.1', tags, { outcome: 'newer', tag: 'v1.11.0' }],
    ['^1.4 keeps to 1.x', sv('^1.4'), '1.4.0', tags.filter((t) => t !== 'v1.11.0'), { outcome: 'newer', tag: '1.10.2' }],
    ['>=2 <3', sv('>=2 <3'), '1.0.0', tags, { outcome: 'newer', tag: '2.0.0' }],
    ['~1.4 patch only', sv('~1.4'), '1.4.0', tags, { outcome: 'newer', tag: '1.4.7' }],
    ['prerelease ignored unless asked', sv('>=1.4.7 <1.6'), '1.4.7', tags, { outcome: 'current', tag: '1.4.7', newestAllowed: '1.4.7' }],
    ['prerelease when asked', sv('>=1.4.7 <1.6', true), '1.4.7', tags, { outcome: 'newer', tag: '1.5.0-rc.1' }],
    ['already newest', sv('^1'), 'v1.11.0', tags, { outcome: 'current', tag: 'v1.11.0', newestAllowed: 'v1.11.0' }],
    ['never a downgrade: current above the range stays', sv('^1'), '2.0.0', tags, { outcome: 'current', tag: '2.0.0', newestAllowed: 'v1.11.0' }],
    ['never a downgrade: tag list lost the newer tag', sv('^1'), '1.10.2', ['1.0.0', '1.4.0'], { outcome: 'current', tag: '1.10.2', newestAllowed: '1.4.0' }],
    ['nothing allowed yet', sv('^3'), '2.0.0', tags, { outcome: 'current', tag: '2.0.0' }],
    ['current not semver is refused', sv('^1'), 'latest', tags, { outcome: 'refused', reason: expect.stringContaining('the current tag "latest" is not ordered by semver ^1') }],
    ['bad range refused', sv('not a range'), '1.0.0', tags, { outcome: 'refused', reason: '"not a range" is not a semver range' }],
    ['build number, numeric (10 > 9)', pat('main-(\\d+)-[0-9a-f]+'), 'main-9-aaa', ['main-9-aaa', 'main-10-bbb', 'main-8-ccc', 'dev-99-ddd'], { outcome: 'newer', tag: 'main-10-bbb' }],
    ['whole tag must match', pat('main-(\\d+)-[0-9a-f]+'), 'main-9-aaa', ['main-9-aaa', 'main-12-bbb-broken', 'xmain-13-ccc'], { outcome: 'current', tag: 'main-9-aaa', newestAllowed: 'main-9-aaa' }],
    ['timestamp key', pat('build-(\\d{14})'), 'build-20261128235959', ['build-20261129101500', 'build-20261129091500'], { outcome: 'newer', tag: 'build-20261129101500' }],
    ['alphabetical key', pat('release-([a-z]+)', 'alphabetical'), 'release-bionic', ['release-focal', 'release-jammy', 'release-bionic'], { outcome: 'newer', tag: 'release-jammy' }],
    ['numeric key larger than a double', pat('b(\\d+)'), 'b90071992547409910', ['b90071992547409911', 'b90071992547409909'], { outcome: 'newer', tag: 'b90071992547409911' }],
    ['no current tag: take the newest', pat('b(\\d+)'), undefined, ['b1', 'b3'], { outcome: 'newer', tag: 'b3' }],
    ['pattern without group refused', pat('main-\\d+'), 'main-1', ['main-2'], { outcome: 'refused', reason: expect.stringContaining('has no capture group') }],
    ['digest policy follows the current tag', { kind: 'digest' }, 'latest', tags, { outcome: 'current', tag: 'latest' }],
  ])('%s', (_name, policy, current, list, expected) => {
    expect(chooseTag(policy, current, list)).toEqual(expected);
  });

  it('runs a catastrophic-backtracking pattern in linear time (RE2)', () => {
    // A backtracking engine takes ages on 120 a's without a b; RE2 does not backtrack.
    const evil = pat('(a+)+b', 'alphabetical');
    const decision = chooseTag(evil, 'ab', ['a'.repeat(120) + 'c', 'aab']);
    expect(decision).toEqual({ outcome: 'newer', tag: 'aab' });
  });
});

describe('compilePolicyPattern', () => {
  it.each([
    ['(\\d)\\1', /not a regular expression RE2 accepts \(linear time: no backreferences/],
    ['(?=x)(a)', /not a regular expression RE2 accepts/],
    ['x'.repeat(300), /is 300 characters, longer than the 256-character limit/],
    ['[0-9]+', /no capture group/],
  ])('refuses %s', (pattern, reason) => {
    const compiled = compilePolicyPattern(pattern);
    expect(compiled.ok).toBe(false);
    expect(!compiled.ok && compiled.reason).toMatch(reason);
  });
});

describe('describePolicy', () => {
  it.each<[ImagePolicy, string]>([
    [sv('^1.4'), 'semver ^1.4'],
    [{ kind: 'semver', range: '^1', prereleases: true, pinDigest: true }, 'semver ^1 (prereleases), pinned by digest'],
    [pat('main-(\\d+)'), 'pattern main-(\\d+) (numeric)'],
    [{ kind: 'digest' }, 'digest'],
  ])('%j', (policy, text) => {
    expect(describePolicy(policy)).toBe(text);
  });
});

describe('patterns over a long-running daemon', () => {
  // re2-wasm's 16 MiB heap is not garbage-collected: a program compiled per poll and never freed aborts the process after a few thousand polls.
  it('frees what each evaluation compiles: 5,000 polls of a pattern policy still answer', { timeout: 30_000 }, () => {
    const policy: ImagePolicy = { kind: 'pattern', pattern: 'main-(\\d+)-[0-9a-f]+', order: 'numeric', pinDigest: false };
    const tags = ['main-1-abc', 'main-12-def', 'main-3-123', 'latest'];
    for (let poll = 0; poll < 5_000; poll++) expect(chooseTag(policy, 'main-1-abc', tags)).toEqual({ outcome: 'newer', tag: 'main-12-def' });
    const refused = compilePolicyPattern('[a-z]+');
    expect(refused.ok).toBe(false);
  });
});
