import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GitError } from '../errors.js';
import { diskRepo } from '../manifest/files.js';
import type { Problem } from '../manifest/problem.js';
import { compileSchemas } from '../manifest/schemas.js';
import { pushWithRetry } from '../promotion/push.js';
import { gitError, gitIn } from '../source/git.js';
import { bumpMessage } from './bump-message.js';
import { planBumps } from './plan-bumps.js';
import type { BumpGuard, BumpSkip, RequestedBump } from './plan-bumps.js';

export type { BumpSkip } from './plan-bumps.js';
import type { ImageBump } from './bump-message.js';

export interface BumpRequest {
  /** A clone of the config repo with an `origin` remote. */
  dir: string;
  branch: string;
  env: string;
  bumps: readonly RequestedBump[];
  by: string;
  /** Refuses a bump against the image the fresh branch names (a downgrade); see BumpGuard. */
  guard?: BumpGuard;
}

export interface BumpResult {
  outcome: 'committed' | 'up-to-date' | 'invalid';
  commit?: string;
  applied: ImageBump[];
  skipped: BumpSkip[];
  problems: Problem[];
  attempts: number;
}

/**
 * Commits image updates of one environment to the followed branch: only the
 * `image:` lines change (comments and layout kept), the result must load
 * without problems, and a rejected push is retried with backoff like the
 * markers', each time from the fetched tip.
 * Idempotent: every attempt starts from the freshly fetched branch, so a
 * bump another daemon (or a restart of this one) already pushed is
 * `up-to-date`, and a line someone moved since the check is skipped.
 */
export async function commitImageBumps(req: BumpRequest, options: { maxAttempts?: number; sleep?: (ms: number) => Promise<void>; random?: () => number } = {}): Promise<BumpResult> {
  const max = options.maxAttempts ?? 12;
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return { ...(await attemptBumps(req)), attempts: attempt };
    } catch (error) {
      // Rejected because the branch moved: decide again on the new tip instead of rebasing
      // manifest edits, so a bump another daemon already pushed becomes up-to-date, not a conflict.
      if (!(error instanceof GitError) || !/still rejected/.test(error.message) || attempt >= max) throw error;
      await sleep(100 * 2 ** Math.min(attempt - 1, 6) * (0.5 + random()));
    }
  }
}

async function attemptBumps(req: BumpRequest): Promise<Omit<BumpResult, 'attempts'>> {
  const git = gitIn(req.dir);
  await git.fetch('origin', `+refs/heads/${req.branch}:refs/remotes/origin/${req.branch}`).catch((e: unknown) => Promise.reject(gitError('fetch', 'origin', e)));
  const work = await mkdtemp(path.join(tmpdir(), 'stagecoach-images-'));
  try {
    await git.raw(['worktree', 'add', '--detach', work, `refs/remotes/origin/${req.branch}`]).catch((e: unknown) => Promise.reject(gitError('worktree add', req.dir, e)));
    const plan = await planBumps(diskRepo(work), req.env, req.bumps, compileSchemas(), req.guard);
    if (plan.problems.length > 0) return { outcome: 'invalid', applied: [], skipped: plan.skipped, problems: plan.problems };
    if (plan.applied.length === 0) return { outcome: 'up-to-date', applied: [], skipped: plan.skipped, problems: [] };
    for (const [file, text] of Object.entries(plan.changes)) await writeFile(path.join(work, file), text);
    const wt = gitIn(work);
    await wt.add(['-A', `environments/${req.env}`]);
    await wt.commit(bumpMessage(req.env, plan.applied, req.by));
    const pushed = await pushWithRetry(wt, { branch: req.branch, maxAttempts: 1 });
    return { outcome: 'committed', commit: pushed.commit, applied: plan.applied, skipped: plan.skipped, problems: [] };
  } finally {
    await git.raw(['worktree', 'remove', '--force', work]).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}
