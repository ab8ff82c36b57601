import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitError, runGit } from '../../../src/git/git-cli.js';

function repoWithCommit(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'stagecoach-rungit-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } });
  git('init', '-q', '-b', 'main');
  git('commit', '-q', '--allow-empty', '-m', 'first');
  return dir;
}

describe('runGit (the poll of a remote repo: one git process, no simple-git)', () => {
  it("resolves to git's stdout", async () => {
    const dir = repoWithCommit();
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir }).toString().trim();
    expect(await runGit(['ls-remote', dir, 'refs/heads/main'], dir, 10_000)).toBe(`${head}\trefs/heads/main\n`);
  });

  it("fails with git's own message, which gitError names and redacts", async () => {
    const dir = repoWithCommit();
    const error = await runGit(['ls-remote', 'https://user:s3cret@127.0.0.1:1/none.git', 'refs/heads/main'], dir, 10_000).then(() => new Error("resolved"), (e: unknown) => e as Error);
    expect(error.message).toMatch(/^fatal: unable to access '.*127\.0\.0\.1:1\/none\.git\/'/);
    const wrapped = gitError('ls-remote', 'https://user:s3cret@127.0.0.1:1/none.git', error);
    expect(wrapped.message).not.toContain('s3cret');
    expect(wrapped.transient).toBe(true);
  });

  it('kills a git that does not answer within the timeout, and says so (transient)', async () => {
    const dir = repoWithCommit();
    const silent = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const error = await runGit(['ls-remote', `git://127.0.0.1:${port}/x.git`], dir, 500).then(() => new Error("resolved"), (e: unknown) => e as Error);
      expect(error.message).toBe('git ls-remote timed out after 0.5 s');
      expect(gitError('ls-remote', 'git://x', error).transient).toBe(true);
    } finally {
      silent.close();
    }
  });
});
