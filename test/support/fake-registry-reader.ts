import { RegistryError } from '../../src/errors.js';
import type { RegistryReader } from '../../src/images/check.js';

/**
 * A RegistryReader over repository → tag → digest, recording what was asked.
 * `fail` makes every question about that repository fail with the error.
 */
export function fakeRegistryReader(repos: Record<string, Record<string, string>>, fail: Record<string, RegistryError> = {}) {
  const asked: string[] = [];
  const split = (image: string) => {
    const slash = image.lastIndexOf('/');
    const colon = image.lastIndexOf(':');
    return colon > slash ? { repo: image.slice(0, colon), tag: image.slice(colon + 1) } : { repo: image, tag: 'latest' };
  };
  const reader: RegistryReader = {
    listTags: async (image) => {
      asked.push(`tags ${image}`);
      const { repo } = split(image);
      if (fail[repo]) throw fail[repo];
      if (!repos[repo]) throw new RegistryError(`no repository ${repo}`);
      return Object.keys(repos[repo]);
    },
    manifestDigest: async (image) => {
      asked.push(`digest ${image}`);
      const { repo, tag } = split(image);
      if (fail[repo]) throw fail[repo];
      const digest = repos[repo]?.[tag];
      if (!digest) throw new RegistryError(`no ${image}`);
      return digest;
    },
  };
  return { reader, asked, repos };
}
