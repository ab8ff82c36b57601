import type { SimpleGit } from 'simple-git';
import { gitError, gitIn } from './git-cli.js';
import { pushHead } from './push-head.js';
import type { HeadPushOutcome } from './push-head.js';

/**
 * A person's clone, as the CLI commands (rollback, promote, history) use it:
 * its checked-out branch and index matter here, unlike in the daemon's clone.
 */
export class Checkout {
  private readonly git: SimpleGit;
  constructor(readonly dir: string) {
    this.git = gitIn(dir);
  }

  async isRepo(): Promise<boolean> {
    return this.git.checkIsRepo().catch(() => false);
  }

  async head(): Promise<string> {
    return (await this.git.revparse(['HEAD'])).trim();
  }

  /** The checked-out branch, or 'HEAD' when detached. */
  async currentBranch(): Promise<string> {
    return (await this.git.revparse(['--abbrev-ref', 'HEAD'])).trim();
  }

  /** `Name <email>` of whoever commits here, or `fallback`. */
  async author(fallback: string): Promise<string> {
    const ident = await this.git.raw(['var', 'GIT_AUTHOR_IDENT']).catch(() => fallback);
    return ident.replace(/\s+\d+ [+-]\d{4}\s*$/, '').trim();
  }

  async hasOrigin(): Promise<boolean> {
    return (await this.git.getRemotes()).some((r) => r.name === 'origin');
  }

  /** The commit a revision names, or null when it names none. */
  async commitOf(revision: string): Promise<string | null> {
    const out = await this.git.revparse(['--verify', '--quiet', `${revision}^{commit}`]).catch(() => '');
    return out.trim() || null;
  }

  async filesAt(revision: string, folder: string): Promise<string[]> {
    return (await this.git.raw(['ls-tree', '-r', '--name-only', revision, '--', folder])).split('\n').filter(Boolean);
  }

  async subject(revision: string): Promise<string> {
    return (await this.git.raw(['log', '-1', '--format=%s', revision])).trim();
  }

  async isClean(folder: string): Promise<boolean> {
    return (await this.git.status(['--porcelain', '--', folder])).isClean();
  }

  /** Stages `folder` exactly as it was at `revision` (files added since are removed); true when that changes anything. */
  async restoreFolder(revision: string, folder: string): Promise<boolean> {
    await this.git.raw(['rm', '-r', '-q', '--ignore-unmatch', '--', folder]);
    await this.git.raw(['checkout', revision, '--', folder]);
    return (await this.git.raw(['diff', '--cached', '--name-only', '--', folder])).trim() !== '';
  }

  /** Commits only `paths`: a change someone staged elsewhere stays staged, out of this commit. */
  async commitPaths(message: string, paths: string[]): Promise<string> {
    await this.git.commit(message, paths);
    return this.head();
  }

  /** Pushes the checked-out branch's new commits (rebasing onto others' with retry; never forcing). */
  async push(branch: string): Promise<HeadPushOutcome> {
    return pushHead(this.git, { branch });
  }

  /** Moves the checked-out branch forward to `commit` (the working tree follows; local edits are kept or the merge refuses). */
  async fastForward(commit: string): Promise<void> {
    await this.git.merge(['--ff-only', commit]).catch((error: unknown) => Promise.reject(gitError('merge --ff-only', this.dir, error)));
  }

  /** Points a local branch that is not checked out at `commit`. */
  async setBranch(branch: string, commit: string): Promise<void> {
    await this.git.raw(['branch', '-f', branch, commit]);
  }
}
