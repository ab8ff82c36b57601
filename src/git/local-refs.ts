import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

const objectId = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** The git directory of a local repository in the files layout this module reads; undefined for anything else. */
async function filesGitDir(repo: string): Promise<string | undefined> {
  const dotGit = path.join(repo, '.git');
  const kind = await stat(dotGit).then((s) => (s.isDirectory() ? 'dir' : 'other'), () => 'none');
  // A .git file (a linked worktree or a submodule) points elsewhere: git follows it, this does not.
  if (kind === 'other') return undefined;
  const gitDir = kind === 'dir' ? dotGit : repo;
  const [head, commondir, reftable] = await Promise.all(
    ['HEAD', 'commondir', 'reftable'].map((name) => stat(path.join(gitDir, name)).then(() => true, () => false)),
  );
  return head && !commondir && !reftable ? gitDir : undefined;
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
 */
export async function readLocalBranch(repo: string, branch: string): Promise<string | null | undefined> {
  if (!branch || branch.includes('..') || branch.startsWith('/') || branch.endsWith('/')) return undefined;
  const gitDir = await filesGitDir(repo);
  if (!gitDir) return undefined;
  const ref = `refs/heads/${branch}`;
  try {
    const loose = (await readFile(path.join(gitDir, ref), 'utf8')).trim();
    return objectId.test(loose) ? loose : undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return undefined;
  }
  let packed: string;
  try {
    packed = await readFile(path.join(gitDir, 'packed-refs'), 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? null : undefined;
  }
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
  return path.isAbsolute(url) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : undefined;
}
