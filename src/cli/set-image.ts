import path from 'node:path';
import { UsageError } from '../errors.js';
import { commitImageBumps } from '../images/bump-commit.js';
import { isSemverDowngrade } from '../images/downgrade.js';
import { formatProblem } from '../manifest/problem.js';
import { parseImageRef } from '../manifest/image-ref.js';
import { Checkout } from '../git/checkout.js';
import { gitIn } from '../git/git-cli.js';
import { GitRepository } from '../git/repository.js';
import type { CliIo } from './io.js';
import { exitCodes } from './io.js';

export interface SetImageOptions {
  env?: string;
  repo?: string;
  branch?: string;
  allowDowngrade?: boolean;
}

/**
 * `stagecoach set-image --env E web=registry/app:1.5.0 …`: for CI jobs that
 * know the tag they just pushed. Commits only the image lines to the branch
 * of origin, validated like any manifest change, pushed with retry.
 * Exit 0 committed or already set, 1 refused (bad reference, unknown
 * service, invalid result, downgrade), 2 error (usage, git).
 */
export async function setImageCommand(assignments: readonly string[], options: SetImageOptions, io: CliIo): Promise<number> {
  if (!options.env) throw new UsageError('--env NAME is required');
  if (assignments.length === 0) throw new UsageError('name at least one SERVICE=IMAGE, e.g. web=registry.example.com/shop/web:1.5.0');
  const bumps: { service: string; to: string; policy: string }[] = [];
  const refused: string[] = [];
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new UsageError(`"${a}" is not SERVICE=IMAGE`);
    const service = a.slice(0, eq);
    const image = a.slice(eq + 1);
    const parsed = parseImageRef(image);
    if (!parsed.ok) refused.push(`${service}: image "${image}" ${parsed.reason}`);
    else bumps.push({ service, to: image, policy: 'set-image' });
  }
  if (refused.length > 0) {
    for (const r of refused) io.err(`stagecoach set-image: ${r}`);
    return exitCodes.failed;
  }
  const dir = path.resolve(io.cwd, options.repo ?? '.');
  const checkout = new Checkout(dir);
  if (!(await checkout.isRepo())) throw new UsageError(`${dir} is not a git repository; --repo must be a clone of the config repo`);
  if (!(await checkout.hasOrigin())) throw new UsageError(`${dir} has no remote "origin" to push to`);
  const branch = options.branch ?? (await currentBranch(dir, checkout));
  const who = await checkout.author('a CI job');
  // Built from git objects on origin's branch: the CI checkout (often stale, often detached) is never touched.
  const result = await commitImageBumps(new GitRepository({ dir, branch }), {
    branch,
    env: options.env,
    bumps,
    by: `set-image (${who})`,
    guard: options.allowDowngrade ? undefined : (_s, current, next) => (isSemverDowngrade(current, next) ? `would downgrade from ${current} to ${next} (pass --allow-downgrade if that is meant)` : undefined),
  });
  for (const s of result.skipped) io.err(`stagecoach set-image: ${s.service}: ${s.reason}`);
  if (result.outcome === 'invalid') {
    io.err(`stagecoach set-image: ${options.env} would be invalid; nothing committed:`);
    for (const p of result.problems) io.err(`  ${formatProblem(p)}`);
    return exitCodes.failed;
  }
  if (result.outcome === 'committed') {
    io.out(`committed ${result.commit?.slice(0, 7)} to ${branch}: ${result.applied.map((b) => `${b.service} ${b.from} → ${b.to}`).join(', ')}`);
  } else if (result.skipped.length === 0) {
    io.out(`${options.env} already has ${bumps.map((b) => `${b.service}=${b.to}`).join(', ')} on ${branch}; nothing to commit`);
  }
  return result.skipped.length > 0 ? exitCodes.failed : exitCodes.ok;
}

/** The branch the clone is on; CI checkouts are often detached, then origin's default branch. */
async function currentBranch(dir: string, checkout: Checkout): Promise<string> {
  const head = await checkout.currentBranch().catch(() => 'HEAD');
  if (head !== 'HEAD') return head;
  const remoteHead = (await gitIn(dir).raw(['symbolic-ref', '--short', 'refs/remotes/origin/HEAD']).catch(() => '')).trim();
  if (remoteHead.startsWith('origin/')) return remoteHead.slice('origin/'.length);
  throw new UsageError(`${dir} is on a detached HEAD and origin names no default branch; pass --branch NAME`);
}
