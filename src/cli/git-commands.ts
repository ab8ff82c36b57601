import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { UsageError } from '../errors.js';
import { environmentHistory } from '../promotion/history.js';
import { markerPath } from '../promotion/marker.js';
import type { PromotionMarker } from '../promotion/marker.js';
import { Checkout } from '../git/checkout.js';
import { GitRepository } from '../git/repository.js';
import { proposeInClone } from '../promotion/propose.js';
import { rollbackEnvironment } from '../promotion/rollback.js';
import type { CliIo } from './io.js';
import { exitCodes } from './io.js';

function repoDir(options: { repo?: string }, io: CliIo): string {
  return path.resolve(io.cwd, options.repo ?? '.');
}

async function requireGit(dir: string): Promise<void> {
  if (!(await new Checkout(dir).isRepo())) throw new UsageError(`${dir} is not a git repository; --repo must be a clone of the config repo`);
}

/** `stagecoach history`: deploys, promotions, rollbacks and markers of one environment, from git. */
export async function historyCommand(options: { repo?: string; env?: string; json?: boolean; limit?: string }, io: CliIo): Promise<number> {
  if (!options.env) throw new UsageError('--env NAME is required');
  const dir = repoDir(options, io);
  await requireGit(dir);
  const entries = await environmentHistory(new GitRepository({ dir, branch: 'HEAD' }), options.env, Number(options.limit ?? 50));
  if (options.json) {
    io.out(JSON.stringify(entries, null, 2));
    return exitCodes.ok;
  }
  if (entries.length === 0) io.out(`no history for ${options.env}`);
  for (const e of entries) {
    const what = e.kind === 'marker' ? `${e.result} ${e.tests ?? ''} at ${e.revision?.slice(0, 7)}`.replace(/\s+/g, ' ') : e.subject;
    io.out(`${e.commit.slice(0, 7)}  ${e.at}  ${e.kind.padEnd(9)} ${what}  — ${e.author}`);
  }
  return exitCodes.ok;
}

/** `stagecoach promote`: proposes B the images A's latest marker verified, as a branch (or a commit with --commit). */
export async function promoteCommand(options: { repo?: string; from?: string; to?: string; branch?: string; commit?: boolean }, io: CliIo): Promise<number> {
  if (!options.from || !options.to) throw new UsageError('--from A and --to B are required');
  const dir = repoDir(options, io);
  await requireGit(dir);
  const checkout = new Checkout(dir);
  const branch = options.branch ?? (await checkout.currentBranch());
  const text = await readFile(path.join(dir, markerPath(options.from)), 'utf8').catch(() => undefined);
  if (!text) throw new UsageError(`${options.from} has no marker (${markerPath(options.from)}) in ${dir}: nothing verified to promote`);
  const marker = parse(text) as PromotionMarker;
  if (marker.result !== 'passed') {
    io.err(`stagecoach promote: ${options.from}'s latest marker is ${marker.result} (at ${marker.revision.slice(0, 7)}); only verified images are promoted`);
    return exitCodes.failed;
  }
  const images = Object.fromEntries(Object.entries(marker.services).map(([name, s]) => [name, s.image]));
  const who = await checkout.author('a person');
  const result = await proposeInClone(dir, { branch, from: options.from, to: options.to, images, verifiedAt: marker.revision, mode: options.commit ? 'commit' : 'branch', by: who });
  if (result.outcome === 'up-to-date') io.out(`${options.to} already has (or is proposed) what ${options.from} verified at ${marker.revision.slice(0, 7)}`);
  else io.out(`${result.outcome} on ${result.ref} (${result.commit?.slice(0, 7)}): ${result.changed.map((c) => `${c.service} ${c.from} → ${c.to}`).join(', ')}`);
  return exitCodes.ok;
}

/** `stagecoach rollback`: a new commit restoring an environment's manifests as of REV. */
export async function rollbackCommand(options: { repo?: string; env?: string; to?: string; reason?: string }, io: CliIo): Promise<number> {
  if (!options.env || !options.to) throw new UsageError('--env NAME and --to REV are required');
  const dir = repoDir(options, io);
  await requireGit(dir);
  const result = await rollbackEnvironment({ dir, env: options.env, to: options.to, reason: options.reason ?? 'manual rollback' });
  io.out(`${options.env}: ${result.message}`);
  return exitCodes.ok;
}
