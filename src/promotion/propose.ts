import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { diskRepo } from '../manifest/files.js';
import { gitError, gitIn } from '../source/git.js';
import { pushWithRetry } from './push.js';
import { setServiceImages } from './set-images.js';
import { readInRepo, writeInRepo } from './safe-write.js';

export function proposalBranch(env: string): string {
  return `stagecoach/promote/${env}`;
}

export interface ProposalRequest {
  /** A clone of the config repo with an `origin` remote (or none: then only a local branch is made). */
  dir: string;
  branch: string;
  from: string;
  to: string;
  /** service → verified image */
  images: Record<string, string>;
  /** The upstream revision the images were verified at. */
  verifiedAt: string;
  mode: 'branch' | 'commit';
  /** Who asked, for the message (the daemon, or a person). */
  by: string;
}

export interface ProposalResult {
  outcome: 'proposed' | 'committed' | 'up-to-date';
  ref: string;
  commit?: string;
  changed: { service: string; from: string; to: string }[];
}

/**
 * Writes the promotion of verified images from one environment to the next:
 * a branch stagecoach/promote/<to> with one commit on top of the branch the
 * daemon follows, for a person to merge (merge-to-promote), or, where the
 * environment allows it, a direct commit. Works in a temporary worktree so the
 * checkout the daemon deploys from is never disturbed.
 */
export async function proposePromotion(req: ProposalRequest): Promise<ProposalResult> {
  const git = gitIn(req.dir);
  const hasOrigin = (await git.getRemotes()).some((r) => r.name === 'origin');
  const target = req.mode === 'branch' ? proposalBranch(req.to) : req.branch;
  if (hasOrigin) await git.fetch('origin', `+refs/heads/${req.branch}:refs/remotes/origin/${req.branch}`).catch((e: unknown) => Promise.reject(gitError('fetch', 'origin', e)));
  const base = hasOrigin ? `refs/remotes/origin/${req.branch}` : 'HEAD';
  const work = await mkdtemp(path.join(tmpdir(), 'stagecoach-promote-'));
  try {
    await git.raw(['worktree', 'add', '--detach', work, base]);
    const wt = gitIn(work);
    const files = await diskRepo(work).listManifests(`environments/${req.to}`);
    const changed: ProposalResult['changed'] = [];
    for (const file of files) {
      const result = setServiceImages(await readInRepo(work, file), req.images);
      if (result.changed.length === 0) continue;
      await writeInRepo(work, file, result.text);
      changed.push(...result.changed);
    }
    if (changed.length === 0) return { outcome: 'up-to-date', ref: target, changed };
    const summary = changed.map((c) => `${c.service} ${c.to}`).join(', ');
    const body = changed.map((c) => `- ${c.service}: ${c.from} → ${c.to}`).join('\n');
    const message = `promote ${req.to}: ${summary}\n\nVerified in ${req.from} at ${req.verifiedAt.slice(0, 7)}; proposed by ${req.by}.\n${body}\n\nStagecoach-Promote-From: ${req.from}\nStagecoach-Promote-To: ${req.to}\nStagecoach-Verified-Revision: ${req.verifiedAt}\n`;
    await wt.add(['-A', `environments/${req.to}`]);
    await wt.commit(message);
    const commit = (await wt.revparse(['HEAD'])).trim();
    if (!hasOrigin) {
      // The checked-out branch cannot be force-moved; fast-forward it (the checkout follows, local edits are kept or the merge refuses).
      const checkedOut = (await git.revparse(['--abbrev-ref', 'HEAD'])).trim();
      if (checkedOut === target) await git.merge(['--ff-only', commit]);
      else await git.raw(['branch', '-f', target, commit]);
      return { outcome: req.mode === 'branch' ? 'proposed' : 'committed', ref: target, commit, changed };
    }
    if (req.mode === 'commit') {
      const pushed = await pushWithRetry(wt, { branch: req.branch });
      return { outcome: 'committed', ref: target, commit: pushed.commit, changed };
    }
    // The proposal branch belongs to stagecoach: replace it (unless it already proposes exactly this), but only if nobody moved it since we looked.
    const remote = await git.listRemote(['origin', `refs/heads/${target}`]);
    const current = remote.split('\t')[0]?.trim() ?? '';
    if (current) {
      await git.fetch('origin', `+refs/heads/${target}:refs/stagecoach/proposal`).catch(() => undefined);
      const [theirs, ours] = await Promise.all([git.revparse([`refs/stagecoach/proposal:environments/${req.to}`]).catch(() => ''), wt.revparse([`HEAD:environments/${req.to}`])]);
      if (theirs.trim() === ours.trim()) return { outcome: 'up-to-date', ref: target, commit: current, changed };
    }
    try {
      await wt.push(['origin', `HEAD:refs/heads/${target}`, `--force-with-lease=refs/heads/${target}:${current}`]);
    } catch (error) {
      throw gitError('push', `origin ${target}`, error);
    }
    return { outcome: 'proposed', ref: target, commit, changed };
  } finally {
    await git.raw(['worktree', 'remove', '--force', work]).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}
