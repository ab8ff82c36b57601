import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GitError } from '../../../src/errors.js';
import { pushHead as pushWithRetry } from '../../../src/git/push-head.js';
import { gitIn } from '../../../src/git/git-cli.js';
import { bareRemote, cloneOf, commitFiles, commitMarker, git, markerOf, removeTemps, rev, subjects } from './support.js';

afterAll(removeTemps);

const seed = { 'environments/testing/web.yaml': 'image: app:1\n', 'environments/staging/web.yaml': 'image: app:1\n' };
const noWait = { sleep: async () => undefined };

/** How many times each subject occurs on the remote's main. */
async function counts(remote: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of await subjects(remote)) out[s] = (out[s] ?? 0) + 1;
  return out;
}

describe('pushWithRetry', () => {
  it('pushes a commit when nobody else pushed: one attempt', async () => {
    const remote = await bareRemote(seed);
    const clone = await cloneOf(remote);
    const commit = await commitMarker(clone, markerOf('testing', rev('a'), { web: 'app:1' }));
    const outcome = await pushWithRetry(gitIn(clone), { branch: 'main', ...noWait });
    expect(outcome).toMatchObject({ commit, attempts: 1 });
    expect(await git(remote, ['rev-parse', 'main'])).toBe(commit);
  });

  it('two clones racing to push markers (different files) both land exactly once, without force', async () => {
    const remote = await bareRemote(seed);
    const [a, b] = await Promise.all([cloneOf(remote, 'Daemon A', 'a@example.com'), cloneOf(remote, 'Daemon B', 'b@example.com')]);
    await commitMarker(a, markerOf('testing', rev('a'), { web: 'app:1' }));
    await commitMarker(b, markerOf('staging', rev('b'), { web: 'app:1' }));
    const outcomes = await Promise.all([pushWithRetry(gitIn(a), { branch: 'main', ...noWait }), pushWithRetry(gitIn(b), { branch: 'main', ...noWait })]);

    expect(await counts(remote)).toEqual({ 'Initial config': 1, 'testing: passed 1/1 tests at aaaaaaa': 1, 'staging: passed 1/1 tests at bbbbbbb': 1 });
    // Both based on the same commit: exactly one had to fetch and rebase.
    const attempts = outcomes.map((o) => o.attempts).sort();
    expect(attempts[0]).toBe(1);
    expect(attempts[1]).toBeGreaterThanOrEqual(2);
    // The history is a line (a rebase, not a merge), and whoever pushed last reports the remote's head.
    expect(await git(remote, ['rev-list', '--merges', '--count', 'main'])).toBe('0');
    expect(outcomes.map((o) => o.commit)).toContain(await git(remote, ['rev-parse', 'main']));
    expect((await git(remote, ['show', '--name-only', '--format=', 'main~1', 'main'])).split('\n').filter(Boolean).sort()).toEqual(['promotions/staging.yaml', 'promotions/testing.yaml']);
  });

  it('four clones with three markers each: all twelve land exactly once', async () => {
    const remote = await bareRemote(seed);
    const envs = ['testing', 'staging', 'qa', 'demo'];
    const clones = await Promise.all(envs.map((e) => cloneOf(remote, `Daemon ${e}`, `${e}@example.com`)));
    await Promise.all(
      clones.map(async (clone, i) => {
        for (let m = 1; m <= 3; m++) {
          await commitMarker(clone, markerOf(envs[i]!, rev(String(m)), { web: `app:${m}` }));
          await pushWithRetry(gitIn(clone), { branch: 'main', maxAttempts: 30, backoffMs: 5 });
        }
      }),
    );
    const expected: Record<string, number> = { 'Initial config': 1 };
    for (const e of envs) for (let m = 1; m <= 3; m++) expected[`${e}: passed 1/1 tests at ${rev(String(m)).slice(0, 7)}`] = 1;
    expect(await counts(remote)).toEqual(expected);
  });

  it('does not duplicate a commit that is already upstream (the push landed, its answer was lost)', async () => {
    const remote = await bareRemote(seed);
    const a = await cloneOf(remote);
    const b = await cloneOf(remote);
    const marker = await commitMarker(a, markerOf('testing', rev('a'), { web: 'app:1' }));
    await git(a, ['push', '-q', 'origin', 'HEAD:main']);
    // Someone builds on top of it before A tries again.
    await git(b, ['pull', '-q', '--ff-only']);
    const later = await commitFiles(b, { 'environments/staging/web.yaml': 'image: app:2\n' }, 'staging: web app:2');
    await git(b, ['push', '-q', 'origin', 'HEAD:main']);

    const outcome = await pushWithRetry(gitIn(a), { branch: 'main', ...noWait });
    expect(outcome).toMatchObject({ commit: later, attempts: 2 });
    expect(await subjects(remote)).toEqual(['staging: web app:2', 'testing: passed 1/1 tests at aaaaaaa', 'Initial config']);
    expect(await git(remote, ['rev-parse', 'main~1'])).toBe(marker);
  });

  it('drops a local commit whose change is already upstream under another id (a copy that landed)', async () => {
    const remote = await bareRemote(seed);
    const a = await cloneOf(remote);
    const b = await cloneOf(remote);
    const m = markerOf('testing', rev('a'), { web: 'app:1' });
    await commitMarker(a, m, { GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z' });
    await commitMarker(b, m, { GIT_COMMITTER_DATE: '2026-01-01T00:00:05Z' });
    expect(await git(a, ['rev-parse', 'HEAD'])).not.toBe(await git(b, ['rev-parse', 'HEAD']));
    await git(b, ['push', '-q', 'origin', 'HEAD:main']);

    const outcome = await pushWithRetry(gitIn(a), { branch: 'main', ...noWait });
    expect(outcome.attempts).toBe(2);
    expect(await subjects(remote)).toEqual(['testing: passed 1/1 tests at aaaaaaa', 'Initial config']);
    expect(await git(a, ['rev-parse', 'HEAD'])).toBe(await git(remote, ['rev-parse', 'main']));
  });

  it('waits with exponential backoff and jitter between attempts, then gives up with a transient GitError', async () => {
    const remote = await bareRemote(seed);
    // A remote that refuses every update.
    const hook = path.join(remote, 'hooks', 'pre-receive');
    await writeFile(hook, '#!/bin/sh\necho "frozen for the release" >&2\nexit 1\n', { mode: 0o755 });
    const clone = await cloneOf(remote);
    await commitMarker(clone, markerOf('testing', rev('a'), { web: 'app:1' }));
    const sleeps: number[] = [];
    const error = await pushWithRetry(gitIn(clone), { branch: 'main', maxAttempts: 3, backoffMs: 100, random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).transient).toBe(true);
    expect((error as GitError).message).toMatch(/^git push to origin main still rejected after 3 attempts \(others keep pushing\): .*pre-receive hook declined/s);
    expect(sleeps.slice(0, 2)).toEqual([100, 200]);
    expect(await subjects(remote)).toEqual(['Initial config']);
  });

  it('stops at once, without retrying, when the remote cannot be reached', async () => {
    const remote = await bareRemote(seed);
    const clone = await cloneOf(remote);
    await git(clone, ['remote', 'set-url', 'origin', path.join(path.dirname(remote), 'gone.git')]);
    await commitMarker(clone, markerOf('testing', rev('a'), { web: 'app:1' }));
    const sleeps: number[] = [];
    const error = await pushWithRetry(gitIn(clone), { branch: 'main', sleep: async (ms) => void sleeps.push(ms) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).message).toMatch(/^git push origin main failed: .*(does not appear to be a git repository|Could not read from remote repository)/);
    expect(sleeps).toEqual([]);
  });

  it('gives up on a conflicting change to the same file, says so, and leaves no rebase in progress', async () => {
    const remote = await bareRemote(seed);
    const a = await cloneOf(remote);
    const b = await cloneOf(remote);
    await commitMarker(a, markerOf('testing', rev('a'), { web: 'app:1' }));
    await commitMarker(b, markerOf('testing', rev('b'), { web: 'app:2' }, ['failed']));
    await git(b, ['push', '-q', 'origin', 'HEAD:main']);
    const error = await pushWithRetry(gitIn(a), { branch: 'main', ...noWait }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).message).toMatch(/^git rebase onto origin\/main failed: /);
    expect(await git(a, ['status', '--porcelain=v2', '--branch'])).not.toMatch(/rebase/i);
    expect(await git(a, ['rev-parse', '--verify', '--quiet', 'REBASE_HEAD']).catch(() => 'none')).toBe('none');
    expect(await subjects(remote)).toEqual(['testing: failed 0/1 tests at bbbbbbb', 'Initial config']);
  });
});
