import { Checkout } from '../git/checkout.js';
import type { FileChanges, GitReader, GitWriter, SignOption } from '../git/ports.js';
import { GitRepository } from '../git/repository.js';
import type { RepoFiles } from '../manifest/files.js';
import { setServiceImages } from './set-images.js';

export function proposalBranch(env: string): string {
  return `stagecoach/promote/${env}`;
}

export interface ProposalRequest {
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
  sign?: SignOption;
}

export interface ProposalResult {
  outcome: 'proposed' | 'committed' | 'up-to-date';
  ref: string;
  commit?: string;
  changed: { service: string; from: string; to: string }[];
}

export type ProposalGit = Pick<GitReader, 'fetch' | 'fetchBranch' | 'files' | 'treeId'> & Pick<GitWriter, 'commitFiles' | 'push' | 'updateBranch'>;

/** The new text of every manifest of `to` whose images change, read from a revision's files. */
async function imageChanges(files: RepoFiles, req: ProposalRequest): Promise<{ changes: FileChanges; changed: ProposalResult['changed'] }> {
  const changes: FileChanges = {};
  const changed: ProposalResult['changed'] = [];
  for (const file of await files.listManifests(`environments/${req.to}`)) {
    const read = await files.read(file);
    if (!read.ok) continue;
    const result = setServiceImages(read.text, req.images);
    if (result.changed.length === 0) continue;
    changes[file] = result.text;
    changed.push(...result.changed);
  }
  return { changes, changed };
}

function messageOf(req: ProposalRequest, changed: ProposalResult['changed']): string {
  const summary = changed.map((c) => `${c.service} ${c.to}`).join(', ');
  const body = changed.map((c) => `- ${c.service}: ${c.from} → ${c.to}`).join('\n');
  return `promote ${req.to}: ${summary}\n\nVerified in ${req.from} at ${req.verifiedAt.slice(0, 7)}; proposed by ${req.by}.\n${body}\n\nStagecoach-Promote-From: ${req.from}\nStagecoach-Promote-To: ${req.to}\nStagecoach-Verified-Revision: ${req.verifiedAt}\n`;
}

/**
 * Writes the promotion of verified images from one environment to the next:
 * a branch stagecoach/promote/<to> with one commit on top of the remote
 * branch, for a person to merge (merge-to-promote), or, where the environment
 * allows it, a direct commit. Built from git objects: no checkout is touched.
 */
export async function proposePromotion(git: ProposalGit, req: ProposalRequest): Promise<ProposalResult> {
  const target = req.mode === 'branch' ? proposalBranch(req.to) : req.branch;
  const base = await git.fetch();
  const { changes, changed } = await imageChanges(git.files(base), req);
  if (changed.length === 0) return { outcome: 'up-to-date', ref: target, changed };
  const message = messageOf(req, changed);
  if (req.mode === 'commit') {
    const pushed = await git.push({ branch: req.branch, message, sign: req.sign, changes: async (head) => (await imageChanges(git.files(head), req)).changes });
    return { outcome: pushed.changed ? 'committed' : 'up-to-date', ref: target, commit: pushed.commit, changed };
  }
  const commit = (await git.commitFiles({ base, changes, message, sign: req.sign }))!;
  // The proposal branch belongs to stagecoach: replace it (unless it already proposes exactly this), but only if nobody moved it since we looked.
  const current = await git.fetchBranch(target);
  const folder = `environments/${req.to}`;
  if (current && (await git.treeId(current, folder)) === (await git.treeId(commit, folder))) return { outcome: 'up-to-date', ref: target, commit: current, changed };
  await git.updateBranch(target, commit, current);
  return { outcome: 'proposed', ref: target, commit, changed };
}

/** `stagecoach promote` in a person's clone: through its origin, or, without one, onto local branches. */
export async function proposeInClone(dir: string, req: ProposalRequest): Promise<ProposalResult> {
  const repo = new GitRepository({ dir, branch: req.branch });
  const checkout = new Checkout(dir);
  if (await checkout.hasOrigin()) return proposePromotion(repo, req);
  const target = req.mode === 'branch' ? proposalBranch(req.to) : req.branch;
  const base = await checkout.head();
  const { changes, changed } = await imageChanges(repo.files(base), req);
  if (changed.length === 0) return { outcome: 'up-to-date', ref: target, changed };
  const commit = (await repo.commitFiles({ base, changes, message: messageOf(req, changed), sign: req.sign }))!;
  // The checked-out branch cannot be force-moved; fast-forward it (the checkout follows, local edits are kept or the merge refuses).
  if ((await checkout.currentBranch()) === target) await checkout.fastForward(commit);
  else await checkout.setBranch(target, commit);
  return { outcome: req.mode === 'branch' ? 'proposed' : 'committed', ref: target, commit, changed };
}
