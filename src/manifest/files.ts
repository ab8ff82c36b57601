import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Problem } from './problem.js';
import { formatBytes } from './size.js';

/** Largest manifest or env file read; anything larger is refused before parsing. */
export const maxFileBytes = 1024 * 1024;

export type ReadResult = { ok: true; text: string } | { ok: false; problem: Problem };
export type BytesResult = { ok: true; bytes: Buffer } | { ok: false; problem: Problem };

/**
 * The config repo as the loader sees it: repo-relative POSIX paths in, text out.
 * The loader never touches the file system itself, so it runs on inline strings in tests.
 */
export interface RepoFiles {
  /** Sub-folder names of a folder (sorted); empty when it does not exist. */
  listDirs(dir: string): Promise<string[]>;
  /** Every *.yaml / *.yml below a folder, recursively (sorted). */
  listManifests(dir: string): Promise<string[]>;
  /** Reads a file, refusing one above maxFileBytes or one that leaves the repo through a link. */
  read(file: string): Promise<ReadResult>;
  /**
   * The same, as bytes: files copied into containers (a binary keystore, a font) arrive byte for byte.
   * Absent: the text, encoded as UTF-8 (a source that only holds text).
   */
  readBytes?(file: string): Promise<BytesResult>;
  /** Where a folder leads when a link takes it out of the repo (it is then never listed or walked); undefined when it stays inside. */
  leavesRepo?(dir: string): Promise<string | undefined>;
}

const manifestPattern = /\.ya?ml$/i;

export function tooLarge(file: string, bytes: number): Problem {
  return { file, message: `file is ${formatBytes(bytes)}, larger than the ${formatBytes(maxFileBytes)} limit for a config repo file` };
}

/** RepoFiles over a directory on disk. */
export function diskRepo(root: string): RepoFiles {
  const rootReal = realpath(root);
  const abs = (rel: string) => path.join(root, ...rel.split('/'));
  /** A link anywhere on the way to `dir` that leads out of the repo: its target; such a folder is never read. */
  const leavesRepo = async (dir: string): Promise<string | undefined> => {
    const [real, base] = await Promise.all([realpath(abs(dir)).catch(() => undefined), rootReal]);
    return real !== undefined && real !== base && !real.startsWith(base + path.sep) ? real : undefined;
  };
  /**
   * Regular files (not links) the walk found in folders that stay inside the
   * repo: read without resolving their real path (one file system call fewer
   * per manifest on every start).
   */
  const regularInside = new Set<string>();
  return {
    leavesRepo,
    async listDirs(dir) {
      if (await leavesRepo(dir)) return [];
      const entries = await readdir(abs(dir), { withFileTypes: true }).catch(() => []);
      return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    },
    async listManifests(dir) {
      const found: string[] = [];
      if (await leavesRepo(dir)) return found;
      const walk = async (rel: string): Promise<void> => {
        const entries = await readdir(abs(rel), { withFileTypes: true }).catch(() => []);
        for (const entry of entries) {
          const child = `${rel}/${entry.name}`;
          if (entry.isDirectory()) await walk(child);
          else if ((entry.isFile() || entry.isSymbolicLink()) && manifestPattern.test(entry.name)) {
            found.push(child);
            if (entry.isFile()) regularInside.add(child);
          }
        }
      };
      await walk(dir);
      return found.sort();
    },
    read: (file) => asText(readBytes(file)),
    readBytes,
  };
  async function readBytes(file: string): Promise<BytesResult> {
    const full = abs(file);
    try {
      let real = full;
      if (!regularInside.has(file)) {
        const [resolved, base] = await Promise.all([realpath(full), rootReal]);
        if (resolved !== base && !resolved.startsWith(base + path.sep)) {
          return { ok: false, problem: { file, message: `is a link that leaves the config repo (to ${resolved})` } };
        }
        real = resolved;
      }
      const info = await stat(real);
      if (!info.isFile()) return { ok: false, problem: { file, message: 'is not a regular file' } };
      if (info.size > maxFileBytes) return { ok: false, problem: tooLarge(file, info.size) };
      return { ok: true, bytes: await readFile(real) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const exists = await lstat(full).then(() => true, () => false);
      const message = code === 'ENOENT' && !exists ? 'does not exist' : `cannot be read (${code ?? String(error)})`;
      return { ok: false, problem: { file, message } };
    }
  }
}

/** RepoFiles over an in-memory map of path → text or bytes (tests, imports). */
export function memoryRepo(files: Record<string, string | Buffer>): RepoFiles {
  const paths = Object.keys(files).sort();
  return {
    async listDirs(dir) {
      const prefix = `${dir}/`;
      const names = new Set<string>();
      for (const p of paths) {
        if (!p.startsWith(prefix)) continue;
        const rest = p.slice(prefix.length);
        if (rest.includes('/')) names.add(rest.slice(0, rest.indexOf('/')));
      }
      return [...names].sort();
    },
    async listManifests(dir) {
      return paths.filter((p) => p.startsWith(`${dir}/`) && manifestPattern.test(p));
    },
    read: (file) => asText(readBytes(file)),
    readBytes,
  };
  async function readBytes(file: string): Promise<BytesResult> {
    const content = files[file];
    if (content === undefined) return { ok: false, problem: { file, message: 'does not exist' } };
    const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
    if (bytes.length > maxFileBytes) return { ok: false, problem: tooLarge(file, bytes.length) };
    return { ok: true, bytes };
  }
}

/** A byte read as text (manifests, env files): UTF-8. */
export async function asText(pending: Promise<BytesResult>): Promise<ReadResult> {
  const read = await pending;
  return read.ok ? { ok: true, text: read.bytes.toString('utf8') } : read;
}
