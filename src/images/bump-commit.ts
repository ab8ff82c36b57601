import type { GitReader, GitWriter, SignOption } from '../git/ports.js';
import type { Problem } from '../manifest/problem.js';
import { compileSchemas } from '../manifest/schemas.js';
import type { SchemaValidators } from '../manifest/schemas.js';
import { bumpMessage } from './bump-message.js';
import type { ImageBump } from './bump-message.js';
import { planBumps } from './plan-bumps.js';
import type { BumpGuard, BumpSkip, RequestedBump } from './plan-bumps.js';

export type { BumpSkip } from './plan-bumps.js';

/** The git a bump needs: the fetched branch's files, and a push that rebuilds the change on a moved head. */
export type BumpGit = Pick<GitReader, 'fetch' | 'files'> & Pick<GitWriter, 'push'>;

export interface BumpRequest {
  branch: string;
  env: string;
  bumps: readonly RequestedBump[];
  by: string;
  /** Refuses a bump against the image the fresh branch names (a downgrade); see BumpGuard. */
  guard?: BumpGuard;
  sign?: SignOption;
  validators?: SchemaValidators;
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
 * without problems, and the push retries like the markers' — each time the
 * change is planned again on the remote's new head, so a bump another daemon
 * (or a restart of this one) already pushed is `up-to-date`, and a line
 * someone moved since the check is skipped.
 */
export async function commitImageBumps(git: BumpGit, req: BumpRequest): Promise<BumpResult> {
  const validators = req.validators ?? compileSchemas();
  const plan = (at: string) => planBumps(git.files(at), req.env, req.bumps, validators, req.guard);
  const first = await plan(await git.fetch());
  if (first.problems.length > 0) return { outcome: 'invalid', applied: [], skipped: first.skipped, problems: first.problems, attempts: 1 };
  if (first.applied.length === 0) return { outcome: 'up-to-date', applied: [], skipped: first.skipped, problems: [], attempts: 1 };
  let last = first;
  const pushed = await git.push({
    branch: req.branch,
    message: bumpMessage(req.env, first.applied, req.by),
    sign: req.sign,
    changes: async (head) => {
      last = await plan(head);
      return last.problems.length > 0 || last.applied.length === 0 ? null : last.changes;
    },
  });
  if (!pushed.changed) return { outcome: last.problems.length > 0 ? 'invalid' : 'up-to-date', applied: [], skipped: last.skipped, problems: last.problems, attempts: pushed.attempts };
  return { outcome: 'committed', commit: pushed.commit, applied: last.applied, skipped: last.skipped, problems: [], attempts: pushed.attempts };
}
