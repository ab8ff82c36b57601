import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localRepoPath, readLocalBranch } from '../../../src/git/local-refs.js';
import { GitRepository } from '../../../src/git/repository.js';
import { bareRemote, cloneOf, git, removeTemps, tempDir } from '../promotion/support.js';

afterAll(removeTemps);

/** What `git ls-remote` says of refs/heads/<branch>: the commit, or null when the branch is not there. */
async function lsRemote(repo: string, branch: string): Promise<string | null> {
  const out = await git(repo, ['ls-remote', repo, `refs/heads/${branch}`]);
  return out ? out.split('\t')[0]! : null;
}

describe('readLocalBranch answers what git ls-remote answers', () => {
  const layouts: { name: string; make: () => Promise<{ repo: string; branch: string }> }[] = [
    { name: 'a loose ref in a bare repository', make: async () => ({ repo: await bareRemote({ 'a.txt': 'a\n' }), branch: 'main' }) },
    {
      name: 'a packed ref (after git pack-refs)',
      make: async () => {
        const repo = await bareRemote({ 'a.txt': 'a\n' });
        await git(repo, ['pack-refs', '--all', '--prune']);
        return { repo, branch: 'main' };
      },
    },
    {
      name: 'a packed ref that a newer loose ref overrides',
      make: async () => {
        const repo = await bareRemote({ 'a.txt': 'a\n' });
        await git(repo, ['pack-refs', '--all', '--prune']);
        const work = await cloneOf(repo);
        await writeFile(path.join(work, 'b.txt'), 'b\n');
        await git(work, ['add', '-A']);
        await git(work, ['commit', '-q', '-m', 'b']);
        await git(work, ['push', '-q', 'origin', 'main']);
        return { repo, branch: 'main' };
      },
    },
    { name: 'a working repository (refs under .git)', make: async () => ({ repo: await cloneOf(await bareRemote({ 'a.txt': 'a\n' })), branch: 'main' }) },
    {
      name: 'a branch with a slash in its name',
      make: async () => {
        const repo = await bareRemote({ 'a.txt': 'a\n' });
        await git(repo, ['branch', 'release/v1', 'main']);
        return { repo, branch: 'release/v1' };
      },
    },
    { name: 'a branch that does not exist (loose refs only)', make: async () => ({ repo: await bareRemote({ 'a.txt': 'a\n' }), branch: 'nope' }) },
    {
      name: 'a branch that does not exist (with packed-refs)',
      make: async () => {
        const repo = await bareRemote({ 'a.txt': 'a\n' });
        await git(repo, ['pack-refs', '--all']);
        return { repo, branch: 'nope' };
      },
    },
  ];

  for (const layout of layouts) {
    it(layout.name, async () => {
      const { repo, branch } = await layout.make();
      const expected = await lsRemote(repo, branch);
      expect(await readLocalBranch(repo, branch)).toBe(expected);
      if (!branch.startsWith('nope')) expect(expected).toMatch(/^[0-9a-f]{40}$/);
    });
  }
});

describe('readLocalBranch leaves git to answer what it does not read', () => {
  const cases: { name: string; make: () => Promise<{ repo: string; branch: string }> }[] = [
    {
      name: 'a symbolic ref',
      make: async () => {
        const repo = await bareRemote({ 'a.txt': 'a\n' });
        await git(repo, ['symbolic-ref', 'refs/heads/alias', 'refs/heads/main']);
        return { repo, branch: 'alias' };
      },
    },
    {
      name: 'a linked worktree (.git is a file)',
      make: async () => {
        const work = await cloneOf(await bareRemote({ 'a.txt': 'a\n' }));
        const linked = path.join(path.dirname(work), 'linked');
        await git(work, ['worktree', 'add', '-q', '-b', 'side', linked]);
        return { repo: linked, branch: 'main' };
      },
    },
    {
      name: 'a reftable repository',
      make: async () => {
        const repo = await bareRemote({ 'a.txt': 'a\n' });
        await mkdir(path.join(repo, 'reftable'));
        return { repo, branch: 'main' };
      },
    },
    { name: 'a folder that is not a repository', make: async () => ({ repo: await tempDir(), branch: 'main' }) },
    { name: 'a branch name that climbs out of refs/', make: async () => ({ repo: await bareRemote({ 'a.txt': 'a\n' }), branch: '../../HEAD' }) },
    {
      name: 'a damaged ref file',
      make: async () => {
        const repo = await bareRemote({ 'a.txt': 'a\n' });
        await writeFile(path.join(repo, 'refs', 'heads', 'main'), 'not a commit\n');
        return { repo, branch: 'main' };
      },
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { repo, branch } = await c.make();
      expect(await readLocalBranch(repo, branch)).toBeUndefined();
    });
  }
});

describe('localRepoPath', () => {
  it.each([
    ['/srv/config.git', '/srv/config.git'],
    ['file:///srv/config%20repo.git', '/srv/config repo.git'],
    ['https://git.example.com/ops/config.git', undefined],
    ['ssh://git@git.example.com/ops/config.git', undefined],
    ['git@git.example.com:ops/config.git', undefined],
    ['relative/config', undefined],
    [undefined, undefined],
  ])('%s → %s', (url, expected) => {
    expect(localRepoPath(url)).toBe(expected);
  });
});

describe('GitRepository.remoteHead of a local remote', () => {
  it('follows pushes, loose and packed, and names a missing branch as ls-remote would', async () => {
    const remote = await bareRemote({ 'a.txt': 'a\n' });
    const repo = new GitRepository({ dir: path.join(await tempDir(), 'repo'), url: remote, branch: 'main' });
    await repo.open();
    expect(await repo.remoteHead()).toBe(await git(remote, ['rev-parse', 'main']));
    const work = await cloneOf(remote);
    await writeFile(path.join(work, 'b.txt'), 'b\n');
    await git(work, ['add', '-A']);
    await git(work, ['commit', '-q', '-m', 'b']);
    await git(work, ['push', '-q', 'origin', 'main']);
    await git(remote, ['pack-refs', '--all', '--prune']);
    expect(await repo.remoteHead()).toBe(await git(work, ['rev-parse', 'HEAD']));
    const other = new GitRepository({ dir: path.join(await tempDir(), 'repo'), url: remote, branch: 'gone' });
    await expect(other.remoteHead()).rejects.toThrow(`git ls-remote ${remote} failed: branch gone does not exist on the remote`);
  });
});
