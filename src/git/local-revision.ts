import { gitIn } from './git-cli.js';

/**
 * The revision of a config repo checkout, for labels and output: the HEAD
 * commit, with `+dirty` when files under environments/ differ from it, or
 * `unversioned` outside git.
 */
export async function localRevision(dir: string): Promise<string> {
  try {
    const git = gitIn(dir);
    if (!(await git.checkIsRepo())) return 'unversioned';
    const head = (await git.revparse(['HEAD'])).trim();
    const status = await git.status(['--porcelain', '--', 'environments']);
    return status.isClean() ? head : `${head}+dirty`;
  } catch {
    return 'unversioned';
  }
}
