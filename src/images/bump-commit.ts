import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GitError } from '../errors.js';
import { diskRepo } from '../manifest/files.js';
import { canonicalImage, parseImageRef } from '../manifest/image-ref.js';
import { loadEnvironment } from '../manifest/load.js';
import type { Problem } from '../manifest/problem.js';
import { compileSchemas } from '../manifest/schemas.js';
import { pushWithRetry } from '../promotion/push.js';
import { setServiceImages } from '../promotion/set-images.js';
import { gitError, gitIn } from '../source/git.js';
import { bumpMessage } from './bump-message.js';
import type { ImageBump } from './bump-message.js';

export interface BumpRequest {
  /** A clone of the config repo with an `origin` remote. */
  dir: string;
  branch: string;
  env: string;
  /** `from` undefined: whatever the line names now (set-image). */
  bumps: readonly (Omit<ImageBump, 'from'> & { from?: string })[];
  by: string;
  /**
   * Refuses a bump against the image the fresh branch names (a downgrade, a
   * tag outside the policy); returns why, or undefined to let it through.
   */
  guard?: (service: string, current: string, next: string) => string | undefined;
}

export type BumpSkip = { service: string; reason: string };

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
    const folder = `environments/${req.env}`;
    const files = await diskRepo(work).listManifests(folder);
    const wanted = new Map(req.bumps.map((b) => [b.service, b]));
    const applied: ImageBump[] = [];
    const skipped: BumpSkip[] = [];
    const seen = new Set<string>();
    for (const file of files) {
      const full = path.join(work, file);
      const text = await readFile(full, 'utf8');
      // First pass: what each wanted service names now in this file.
      const probe = setServiceImages(text, Object.fromEntries([...wanted].map(([s]) => [s, '\u0000probe'])));
      const images: Record<string, string> = {};
      for (const c of probe.changed) {
        seen.add(c.service);
        const bump = wanted.get(c.service)!;
        if (sameImage(c.from, bump.to)) continue; // already there: another daemon, a restart, or CI twice
        if (bump.from !== undefined && !sameImage(c.from, bump.from)) {
          skipped.push({ service: c.service, reason: `its image changed to ${c.from} since the check (expected ${bump.from}); the next check decides again` });
          continue;
        }
        const refused = req.guard?.(c.service, c.from, bump.to);
        if (refused) {
          skipped.push({ service: c.service, reason: refused });
          continue;
        }
        images[c.service] = bump.to;
        applied.push({ service: c.service, from: c.from, to: bump.to, policy: bump.policy });
      }
      if (Object.keys(images).length === 0) continue;
      await writeFile(full, setServiceImages(text, images).text);
    }
    for (const b of req.bumps) if (!seen.has(b.service)) skipped.push({ service: b.service, reason: `no Service named ${b.service} with an image: line in ${folder}` });
    if (applied.length === 0) return { outcome: 'up-to-date', applied, skipped, problems: [] };
    const load = await loadEnvironment(diskRepo(work), req.env, compileSchemas());
    if (load.problems.length > 0) return { outcome: 'invalid', applied: [], skipped, problems: load.problems };
    const wt = gitIn(work);
    await wt.add(['-A', folder]);
    await wt.commit(bumpMessage(req.env, applied, req.by));
    const pushed = await pushWithRetry(wt, { branch: req.branch, maxAttempts: 1 });
    return { outcome: 'committed', commit: pushed.commit, applied, skipped, problems: [] };
  } finally {
    await git.raw(['worktree', 'remove', '--force', work]).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

/** `app` and `app:latest` name the same image: compare as Docker resolves them. */
function sameImage(a: string, b: string): boolean {
  const pa = parseImageRef(a);
  const pb = parseImageRef(b);
  return pa.ok && pb.ok ? canonicalImage(pa.ref) === canonicalImage(pb.ref) : a === b;
}
