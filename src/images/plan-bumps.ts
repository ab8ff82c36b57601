import type { ReadResult, RepoFiles } from '../manifest/files.js';
import { canonicalImage, parseImageRef } from '../manifest/image-ref.js';
import { loadEnvironment } from '../manifest/load.js';
import type { Problem } from '../manifest/problem.js';
import type { SchemaValidators } from '../manifest/schemas.js';
import { setServiceImages } from '../promotion/set-images.js';
import type { ImageBump } from './bump-message.js';

/** A requested move of one service's image; `from` undefined: whatever the line names now (set-image). */
export type RequestedBump = Omit<ImageBump, 'from'> & { from?: string };

/** Refuses a bump against the image the branch names now (a downgrade, say); returns why, or undefined. */
export type BumpGuard = (service: string, current: string, next: string) => string | undefined;

export type BumpSkip = { service: string; reason: string };

export interface BumpPlan {
  /** New text of each manifest file that changes (repo-relative path). */
  changes: Record<string, string>;
  applied: ImageBump[];
  skipped: BumpSkip[];
  /** Problems the environment would have after the change: then nothing may be committed. */
  problems: Problem[];
}

/**
 * The image-line edits of one environment at one revision: only `image:`
 * scalars change (comments and layout kept), a line someone moved since the
 * check is skipped, one already at the target is left alone (another daemon
 * or a restart got there first), and the result must load without problems.
 * Pure over RepoFiles, so it runs on a checkout or on git objects alike.
 */
export async function planBumps(files: RepoFiles, env: string, bumps: readonly RequestedBump[], validators: SchemaValidators, guard?: BumpGuard): Promise<BumpPlan> {
  const folder = `environments/${env}`;
  const wanted = new Map(bumps.map((b) => [b.service, b]));
  const changes: Record<string, string> = {};
  const applied: ImageBump[] = [];
  const skipped: BumpSkip[] = [];
  const seen = new Set<string>();
  for (const file of await files.listManifests(folder)) {
    const read = await files.read(file);
    if (!read.ok) continue;
    // What each wanted service names now: ask for an impossible value, and every match reports its current one.
    const probe = setServiceImages(read.text, Object.fromEntries([...wanted.keys()].map((s) => [s, '\u0000'])));
    const images: Record<string, string> = {};
    for (const c of probe.changed) {
      seen.add(c.service);
      const bump = wanted.get(c.service)!;
      if (sameImage(c.from, bump.to)) continue;
      if (bump.from !== undefined && !sameImage(c.from, bump.from)) {
        skipped.push({ service: c.service, reason: `its image changed to ${c.from} since the check (expected ${bump.from}); the next check decides again` });
        continue;
      }
      const refused = guard?.(c.service, c.from, bump.to);
      if (refused) {
        skipped.push({ service: c.service, reason: refused });
        continue;
      }
      images[c.service] = bump.to;
      applied.push({ service: c.service, from: c.from, to: bump.to, policy: bump.policy });
    }
    if (Object.keys(images).length > 0) changes[file] = setServiceImages(read.text, images).text;
  }
  for (const b of bumps) if (!seen.has(b.service)) skipped.push({ service: b.service, reason: `no Service named ${b.service} with an image: line in ${folder}` });
  if (applied.length === 0) return { changes: {}, applied, skipped, problems: [] };
  const load = await loadEnvironment(overlay(files, changes), env, validators);
  if (load.problems.length > 0) return { changes: {}, applied: [], skipped, problems: load.problems };
  return { changes, applied, skipped, problems: [] };
}

/** The files with some texts replaced: what the revision would hold after the change. */
function overlay(files: RepoFiles, changes: Readonly<Record<string, string>>): RepoFiles {
  return {
    listDirs: (dir) => files.listDirs(dir),
    listManifests: (dir) => files.listManifests(dir),
    read: async (file): Promise<ReadResult> => (file in changes ? { ok: true, text: changes[file]! } : files.read(file)),
    ...(files.readBytes ? { readBytes: async (file: string) => (file in changes ? { ok: true as const, bytes: Buffer.from(changes[file]!, 'utf8') } : files.readBytes!(file)) } : {}),
  };
}

/** `app` and `app:latest` name the same image: compare as Docker resolves them. */
function sameImage(a: string, b: string): boolean {
  const pa = parseImageRef(a);
  const pb = parseImageRef(b);
  return pa.ok && pb.ok ? canonicalImage(pa.ref) === canonicalImage(pb.ref) : a === b;
}
