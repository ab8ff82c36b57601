import { UsageError } from '../errors.js';
import { Checkout } from '../git/checkout.js';
import { gitError } from '../git/git-cli.js';

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
  const checkout = new Checkout(req.dir);
  const folder = `environments/${req.env}`;
  const rev = await checkout.commitOf(req.to);
  if (!rev) throw new UsageError(`revision ${req.to} does not exist in ${req.dir}`);
  if ((await checkout.filesAt(rev, folder)).length === 0) throw new UsageError(`${folder} did not exist at ${rev.slice(0, 7)}; nothing to roll back to`);
  if (!(await checkout.isClean(folder))) throw new UsageError(`${folder} has uncommitted changes in ${req.dir}; commit or stash them first`);
  if (!(await checkout.restoreFolder(rev, folder))) return { outcome: 'unchanged', pushed: false, message: `${folder} already matches ${rev.slice(0, 7)}` };
  const who = await checkout.author('unknown');
  const subjectOfTarget = await checkout.subject(rev);
  const message = `rollback ${req.env} to ${rev.slice(0, 7)}: ${req.reason}\n\nRestores ${folder}/ as it was at ${rev.slice(0, 7)} ("${subjectOfTarget}").\nRequested by ${who}: ${req.reason}\n\nStagecoach-Rollback-Environment: ${req.env}\nStagecoach-Rollback-To: ${rev}\n`;
  const commit = await checkout.commitPaths(message, [folder]);
  if (!(await checkout.hasOrigin())) return { outcome: 'committed', commit, pushed: false, message: `committed ${commit.slice(0, 7)} (no origin remote to push to)` };
  const branch = await checkout.currentBranch();
  if (branch === 'HEAD') throw gitError('push', req.dir, new Error('detached HEAD: check out the branch the daemon follows first'));
  const pushed = await checkout.push(branch);
  return { outcome: 'committed', commit: pushed.commit, pushed: true, message: `committed and pushed ${pushed.commit.slice(0, 7)} to origin/${branch}` };
}
