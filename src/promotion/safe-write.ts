import { constants } from 'node:fs';
import { lstat, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { GitError } from '../errors.js';

/**
 * Refuses a repo-relative path if any part of it (below the repo root) is a
 * symbolic link: a link pushed into the repo must never make the daemon
 * write (or read for rewriting) a file outside it.
 */
async function assertNoLinks(root: string, rel: string): Promise<void> {
  const parts = rel.split('/').filter(Boolean);
  if (parts.length === 0 || parts.some((p) => p === '..' || p === '.')) throw new GitError(`refusing to write ${rel}: not a plain path inside the config repo`);
  let current = root;
  for (const part of parts) {
    current = path.join(current, part);
    const info = await lstat(current).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)));
    if (!info) return;
    if (info.isSymbolicLink()) throw new GitError(`refusing to write ${rel}: ${path.relative(root, current)} is a symbolic link in the config repo (links are never followed for writes)`);
  }
}

/** Reads a repo file for rewriting, never through a link. */
export async function readInRepo(root: string, rel: string): Promise<string> {
  await assertNoLinks(root, rel);
  const handle = await open(path.join(root, rel), constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Writes a repo file (creating its folders), never through a link: O_NOFOLLOW on the file, lstat on every folder. */
export async function writeInRepo(root: string, rel: string, text: string): Promise<void> {
  await assertNoLinks(root, rel);
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await assertNoLinks(root, rel); // mkdir may have raced with a link; check again before opening
  const handle = await open(path.join(root, rel), constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}
