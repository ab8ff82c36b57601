import { UsageError } from '../errors.js';
import { gitError, gitIn } from '../source/git.js';
import { pushWithRetry } from './push.js';

export interface RollbackRequest {
  dir: string;
  env: string;
  to: string;
  reason: string;
}

export interface RollbackResult {
  outcome: 'committed' | 'unchanged';
  commit?: string;
  pushed: boolean;
  message: string;
}

/**
 * A rollback is a new commit, not hidden state: it restores
 * environments/<env>/ exactly as it was at `to` and says who asked and why.
 * The daemon then deploys it like any other commit.
 */
export async function rollbackEnvironment(req: RollbackRequest): Promise<RollbackResult> {
  const git = gitIn(req.dir);
  const folder = `environments/${req.env}`;
  const target = await git.revparse(['--verify', '--quiet', `${req.to}^{commit}`]).catch(() => '');
  if (!target.trim()) throw new UsageError(`revision ${req.to} does not exist in ${req.dir}`);
  const rev = target.trim();
  const files = (await git.raw(['ls-tree', '-r', '--name-only', rev, '--', folder])).trim();
  if (!files) throw new UsageError(`${folder} did not exist at ${rev.slice(0, 7)}; nothing to roll back to`);
  const status = await git.status(['--porcelain', '--', folder]);
  if (!status.isClean()) throw new UsageError(`${folder} has uncommitted changes in ${req.dir}; commit or stash them first`);
  await git.raw(['rm', '-r', '-q', '--ignore-unmatch', '--', folder]);
  await git.raw(['checkout', rev, '--', folder]);
  const staged = (await git.raw(['diff', '--cached', '--name-only', '--', folder])).trim();
  if (!staged) return { outcome: 'unchanged', pushed: false, message: `${folder} already matches ${rev.slice(0, 7)}` };
  const who = (await git.raw(['var', 'GIT_AUTHOR_IDENT']).catch(() => 'unknown')).replace(/\s+\d+ [+-]\d{4}\s*$/, '').trim();
  const subjectOfTarget = (await git.raw(['log', '-1', '--format=%s', rev])).trim();
  const message = `rollback ${req.env} to ${rev.slice(0, 7)}: ${req.reason}\n\nRestores ${folder}/ as it was at ${rev.slice(0, 7)} ("${subjectOfTarget}").\nRequested by ${who}: ${req.reason}\n\nStagecoach-Rollback-Environment: ${req.env}\nStagecoach-Rollback-To: ${rev}\n`;
  // Only the folder: a change someone staged elsewhere stays staged, out of the rollback.
  await git.commit(message, [folder]);
  const commit = (await git.revparse(['HEAD'])).trim();
  const hasOrigin = (await git.getRemotes()).some((r) => r.name === 'origin');
  if (!hasOrigin) return { outcome: 'committed', commit, pushed: false, message: `committed ${commit.slice(0, 7)} (no origin remote to push to)` };
  const branch = (await git.revparse(['--abbrev-ref', 'HEAD'])).trim();
  if (branch === 'HEAD') throw gitError('push', req.dir, new Error('detached HEAD: check out the branch the daemon follows first'));
  const pushed = await pushWithRetry(git, { branch });
  return { outcome: 'committed', commit: pushed.commit, pushed: true, message: `committed and pushed ${pushed.commit.slice(0, 7)} to origin/${branch}` };
}
