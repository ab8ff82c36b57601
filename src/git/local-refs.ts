import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const objectId = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

const exists = (file: string) => statSync(file, { throwIfNoEntry: false }) !== undefined;

/** The git directory of a local repository in the files layout this module reads; undefined for anything else. */
function filesGitDir(repo: string): string | undefined {
  const dotGit = statSync(path.join(repo, '.git'), { throwIfNoEntry: false });
  // A .git file (a linked worktree or a submodule) points elsewhere: git follows it, this does not.
  if (dotGit && !dotGit.isDirectory()) return undefined;
  const gitDir = dotGit ? path.join(repo, '.git') : repo;
  return exists(path.join(gitDir, 'HEAD')) && !exists(path.join(gitDir, 'commondir')) && !exists(path.join(gitDir, 'reftable')) ? gitDir : undefined;
}

function read(file: string): string | { code: string | undefined } {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    return { code: (error as NodeJS.ErrnoException).code };
  }
}

/**
 * The commit `refs/heads/<branch>` points at in a local repository, read the
 * way git reads it in the files ref store: the loose ref file, else the
 * `packed-refs` line. Git writes both through a lock file and a rename, so a
 * read never sees half a ref. null when the branch does not exist; undefined
 * when this cannot tell (a reftable or worktree layout, a symbolic ref, an
 * unreadable file) and git must be asked.
 *
 * For a config repo given as a local path this answers what `git ls-remote`
 * would, without starting git and its upload-pack: the idle daemon's poll.
 * The reads are synchronous: a few small files on a local disk take
 * microseconds, less than the thread-pool round trips of their async forms.
 */
export function readLocalBranch(repo: string, branch: string): string | null | undefined {
  if (!branch || branch.includes('..') || branch.startsWith('/') || branch.endsWith('/')) return undefined;
  const gitDir = filesGitDir(repo);
  if (!gitDir) return undefined;
  const ref = `refs/heads/${branch}`;
  const loose = read(path.join(gitDir, ref));
  if (typeof loose === 'string') return objectId.test(loose.trim()) ? loose.trim() : undefined;
  if (loose.code !== 'ENOENT' && loose.code !== 'ENOTDIR') return undefined;
  const packed = read(path.join(gitDir, 'packed-refs'));
  if (typeof packed !== 'string') return packed.code === 'ENOENT' ? null : undefined;
  for (const line of packed.split('\n')) {
    if (line.startsWith('#') || line.startsWith('^')) continue;
    const space = line.indexOf(' ');
    if (line.slice(space + 1) === ref) {
      const id = line.slice(0, space);
      return objectId.test(id) ? id : undefined;
    }
  }
  return null;
}

/** True for a config repo given as a local path (not a URL or scp-style ssh address). */
export function isLocalPath(repo: string): boolean {
  return path.isAbsolute(repo) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(repo);
}

/** The folder of a config repo given as a local path or a file:// URL; undefined for a remote one. */
export function localRepoPath(url: string | undefined): string | undefined {
  if (!url) return undefined;
  if (url.startsWith('file://')) {
    try {
      return decodeURIComponent(new URL(url).pathname);
    } catch {
      return undefined;
    }
  }
  return isLocalPath(url) ? url : undefined;
}
