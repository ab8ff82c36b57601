import { execFile } from 'node:child_process';
import { gitEnvironment } from './git-environment.js';

/**
 * The revision `git status --porcelain=v2 --branch` describes: the HEAD
 * commit, with `+dirty` when it lists any change (untracked files included),
 * or `unversioned` when there is no commit yet.
 */
export function revisionFromStatus(stdout: string): string {
  const lines = stdout.split('\n').filter((line) => line !== '');
  const oid = lines.find((line) => line.startsWith('# branch.oid '))?.slice('# branch.oid '.length).trim();
  if (!oid || !/^[0-9a-f]{40,64}$/.test(oid)) return 'unversioned';
  return lines.some((line) => !line.startsWith('#')) ? `${oid}+dirty` : oid;
}

/**
 * The revision of a config repo checkout, for labels and output: the HEAD
 * commit, with `+dirty` when files under environments/ differ from it, or
 * `unversioned` outside git. One git process (it was three, through
 * simple-git, which `plan` then loaded for nothing else).
 */
export function localRevision(dir: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      'git',
      ['status', '--porcelain=v2', '--branch', '--untracked-files=all', '--', 'environments'],
      { cwd: dir, env: gitEnvironment(), timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => resolve(error ? 'unversioned' : revisionFromStatus(stdout)),
    );
  });
}
