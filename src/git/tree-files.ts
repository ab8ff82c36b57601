import path from 'node:path';
import type { BytesResult, RepoFiles } from '../manifest/files.js';
import { asText, maxFileBytes, tooLarge } from '../manifest/files.js';

/** What treeFiles needs from a repository: the tree listing and blobs. */
export interface TreeSource {
  listTree(revision: string): Promise<{ mode: string; id: string; size: number; path: string }[]>;
  readBlob(id: string): Promise<string>;
  /** The blob's bytes (files copied into containers); absent: the text as UTF-8. */
  readBlobBytes?(id: string): Promise<Buffer>;
}

const manifestPattern = /\.ya?ml$/i;
const linkMode = '120000';

/**
 * RepoFiles over the git objects of one revision: the loader sees exactly
 * what was committed, whatever the clone's working tree holds. The tree is
 * listed once; blobs are read when asked for.
 */
export function treeFiles(source: TreeSource, revision: string): RepoFiles {
  let listing: Promise<Map<string, { mode: string; id: string; size: number }>> | undefined;
  const entries = () => (listing ??= source.listTree(revision).then((all) => new Map(all.map((e) => [e.path, e]))));
  const resolveLink = async (file: string, depth = 0): Promise<BytesResult> => {
    const all = await entries();
    const entry = all.get(file);
    if (!entry) return { ok: false, problem: { file, message: 'does not exist' } };
    if (entry.mode === linkMode) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), await source.readBlob(entry.id)));
      if (target.startsWith('../') || path.posix.isAbsolute(target) || depth > 8) return { ok: false, problem: { file, message: `is a link that leaves the config repo (to ${target})` } };
      return resolveLink(target, depth + 1);
    }
    if (!entry.mode.startsWith('100')) return { ok: false, problem: { file, message: 'is not a regular file' } };
    if (entry.size > maxFileBytes) return { ok: false, problem: tooLarge(file, entry.size) };
    return { ok: true, bytes: source.readBlobBytes ? await source.readBlobBytes(entry.id) : Buffer.from(await source.readBlob(entry.id), 'utf8') };
  };
  return {
    async listDirs(dir) {
      const prefix = `${dir}/`;
      const names = new Set<string>();
      for (const p of (await entries()).keys()) {
        if (!p.startsWith(prefix)) continue;
        const rest = p.slice(prefix.length);
        if (rest.includes('/')) names.add(rest.slice(0, rest.indexOf('/')));
      }
      return [...names].sort();
    },
    async listManifests(dir) {
      return [...(await entries()).keys()].filter((p) => p.startsWith(`${dir}/`) && manifestPattern.test(p)).sort();
    },
    read: (file) => asText(resolveLink(file)),
    readBytes: (file) => resolveLink(file),
  };
}
