import { access, cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { gitIn } from './git-cli.js';

/**
 * Seeds the bundled example environments into a bare repository in the data
 * dir (once), so `npm start` has a real git remote to follow and its commits
 * never touch the user's checkout. Returns the repository's path.
 */
export async function seedExampleRepo(dataDir: string, environmentsDir: string, branch: string): Promise<{ path: string; created: boolean }> {
  const bare = path.join(dataDir, 'example.git');
  if (await access(path.join(bare, 'HEAD')).then(() => true, () => false)) return { path: bare, created: false };
  await mkdir(dataDir, { recursive: true });
  const work = await mkdtemp(path.join(dataDir, 'seed-'));
  try {
    await cp(environmentsDir, path.join(work, 'environments'), { recursive: true });
    const git = gitIn(work);
    await git.init(['--initial-branch', branch]);
    await git.addConfig('user.name', 'stagecoach').addConfig('user.email', 'stagecoach@localhost');
    await git.add('.');
    await git.commit('Seed the bundled example environments\n\nCopied from the stagecoach package by `npm start`; clone this repository to change them.');
    await gitIn(dataDir).raw(['init', '--bare', '--initial-branch', branch, bare]);
    await git.push(bare, `${branch}:${branch}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { path: bare, created: true };
}
