import { describe, expect, it } from 'vitest';
import { RegistryError } from '../../../src/errors.js';
import { checkImage } from '../../../src/images/check.js';

import type { RegistryReader } from '../../../src/images/check.js';
import type { ImagePolicy } from '../../../src/images/policy.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const R = '127.0.0.1:5000/app';

/** tag → digest; records what was asked. */
function fakeReader(tags: Record<string, string>, fail?: RegistryError): RegistryReader & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    listTags: async (image) => {
      asked.push(`tags ${image}`);
      if (fail) throw fail;
      return Object.keys(tags);
    },
    manifestDigest: async (image) => {
      asked.push(`digest ${image}`);
      if (fail) throw fail;
      const digest = tags[image.slice(image.lastIndexOf(':') + 1)];
      if (!digest) throw new RegistryError(`no ${image}`);
      return digest;
    },
  };
}

const semver1: ImagePolicy = { kind: 'semver', range: '^1', prereleases: false, pinDigest: false };
const tags = { '1.0.0': d('a'), '1.0.1': d('b'), '2.0.0': d('c'), latest: d('c') };

describe('checkImage', () => {
  it.each<[string, string, ImagePolicy, Partial<Record<'next' | 'newestAllowed', string>>]>([
    ['semver bump', `${R}:1.0.0`, semver1, { next: `${R}:1.0.1`, newestAllowed: `${R}:1.0.1` }],
    ['semver already newest; 2.0.0 outside ^1 ignored', `${R}:1.0.1`, semver1, { newestAllowed: `${R}:1.0.1` }],
    ['semver bump pinned by digest', `${R}:1.0.0@${d('a')}`, { ...semver1, pinDigest: true }, { next: `${R}:1.0.1@${d('b')}`, newestAllowed: `${R}:1.0.1@${d('b')}` }],
    ['pinned: same tag re-pushed moves the digest', `${R}:1.0.1@${d('9')}`, { ...semver1, pinDigest: true }, { next: `${R}:1.0.1@${d('b')}`, newestAllowed: `${R}:1.0.1` }],
    ['digest: latest gets pinned', `${R}:latest`, { kind: 'digest' }, { next: `${R}:latest@${d('c')}`, newestAllowed: `${R}:latest@${d('c')}` }],
    ['digest: moved latest re-pinned', `${R}:latest@${d('a')}`, { kind: 'digest' }, { next: `${R}:latest@${d('c')}`, newestAllowed: `${R}:latest@${d('c')}` }],
    ['digest: unchanged', `${R}:latest@${d('c')}`, { kind: 'digest' }, { newestAllowed: `${R}:latest@${d('c')}` }],
  ])('%s', async (_name, image, policy, expected) => {
    const result = await checkImage('web', image, policy, fakeReader(tags));
    expect(result.error).toBeUndefined();
    expect({ next: result.next, newestAllowed: result.newestAllowed }).toEqual({ next: undefined, newestAllowed: undefined, ...expected });
    expect(result.current).toBe(image);
  });

  it('reports a registry failure on the check, with its transient flag, and proposes nothing', async () => {
    const result = await checkImage('web', `${R}:1.0.0`, semver1, fakeReader(tags, new RegistryError('registry 127.0.0.1:5000, repository app: cannot list tags: refused (401)', { transient: false })));
    expect(result).toEqual({ service: 'web', policy: 'semver ^1', current: `${R}:1.0.0`, error: { message: 'registry 127.0.0.1:5000, repository app: cannot list tags: refused (401)', transient: false } });
  });

  it('reports a policy refusal naming the service', async () => {
    const result = await checkImage('web', `${R}:latest`, semver1, fakeReader(tags));
    expect(result.next).toBeUndefined();
    expect(result.error?.message).toMatch(/^web: the current tag "latest" is not ordered by semver \^1/);
  });
});
