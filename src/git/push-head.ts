import type { SimpleGit } from 'simple-git';
import { GitError } from '../errors.js';
import { gitError } from './git-cli.js';

export interface HeadPushOutcome {
  commit: string;
  attempts: number;
  durationMs: number;
}

export interface HeadPushOptions {
  branch: string;
  maxAttempts?: number;
  /** Backoff base; attempt n waits base * 2^(n-1) plus jitter. */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /**
   * On a rebase conflict, keep this side's version of the conflicting lines.
   * Only for files written whole by their single owner (a marker file), never
   * for manifests people edit.
   */
  keepOursOnConflict?: boolean;
}

/**
 * Pushes the local branch's new commit(s), racing with people and other
 * daemons: on rejection, fetch, rebase onto the remote and try again with
 * backoff. Never forces. A commit already upstream (a push that landed but
 * whose answer was lost) is dropped by the rebase, so nothing is duplicated.
 */
export async function pushHead(git: SimpleGit, options: HeadPushOptions): Promise<HeadPushOutcome> {
  const { branch } = options;
  const max = options.maxAttempts ?? 12;
  const base = options.backoffMs ?? 100;
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  const started = Date.now();
  let last: unknown;
  for (let attempt = 1; attempt <= max; attempt++) {
    try {
      await git.push('origin', `HEAD:refs/heads/${branch}`);
      return { commit: (await git.revparse(['HEAD'])).trim(), attempts: attempt, durationMs: Date.now() - started };
    } catch (error) {
      last = error;
      const message = error instanceof Error ? error.message : String(error);
      if (!/rejected|non-fast-forward|fetch first|failed to push|cannot lock ref|incorrect old value/i.test(message)) throw gitError('push', `origin ${branch}`, error);
    }
    if (attempt === max) break;
    // Wait first, then fetch and rebase right before pushing again: the window in which others can move the branch stays short.
    await sleep(base * 2 ** Math.min(attempt - 1, 6) * (0.5 + random()));
    try {
      await git.fetch('origin', `+refs/heads/${branch}:refs/remotes/origin/${branch}`);
      await git.rebase([...(options.keepOursOnConflict ? ['-X', 'theirs'] : []), `refs/remotes/origin/${branch}`]);
    } catch (error) {
      await git.rebase(['--abort']).catch(() => undefined);
      throw gitError('rebase', `onto origin/${branch}`, error);
    }
  }
  throw new GitError(`git push to origin ${branch} still rejected after ${max} attempts (others keep pushing): ${last instanceof Error ? last.message : String(last)}`, { cause: last, transient: true });
}
