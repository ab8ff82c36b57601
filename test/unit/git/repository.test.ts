import { execFile } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { GitError } from '../../../src/errors.js';
import { GitRepository } from '../../../src/git/repository.js';
import { bareRemote, cloneOf, git, removeTemps, subjects, tempDir } from '../promotion/support.js';

afterAll(removeTemps);

const seed = { 'environments/alpha/web.yaml': 'image: app:1\n', 'environments/beta/web.yaml': 'image: app:1\n', 'README.md': 'config\n' };
const noWait = async () => undefined;

async function daemonClone(remote: string, name = 'repo'): Promise<GitRepository> {
  const repo = new GitRepository({ dir: path.join(await tempDir(), name), url: remote, branch: 'main', sleep: noWait });
  await repo.open();
  return repo;
}

const marker = (env: string, text: string) => ({ branch: 'main', message: `${env}: marker ${text}`, changes: async () => ({ [`promotions/${env}.yaml`]: `${text}\n` }) });

describe('GitRepository: reading from git objects', () => {
  it('reads trees and files at a revision, never checking anything out', async () => {
    const remote = await bareRemote(seed);
    const repo = await daemonClone(remote);
    const head = await repo.fetch();
    expect(head).toBe(await git(remote, ['rev-parse', 'main']));
    expect(await readdir(repo.dir)).toEqual(['.git']);
    const trees = await repo.subtrees(head, 'environments');
    expect(Object.keys(trees)).toEqual(['alpha', 'beta']);
    expect(trees.alpha).toBe(await git(remote, ['rev-parse', 'main:environments/alpha']));
    expect(await repo.treeId(head, 'environments/alpha')).toBe(trees.alpha);
    expect(await repo.treeId(head, 'environments/gamma')).toBeNull();
    expect(await repo.subtrees(head, 'nowhere')).toEqual({});
    const files = repo.files(head);
    expect(await files.listDirs('environments')).toEqual(['alpha', 'beta']);
    expect(await files.listManifests('environments/alpha')).toEqual(['environments/alpha/web.yaml']);
    expect(await files.read('environments/beta/web.yaml')).toEqual({ ok: true, text: 'image: app:1\n' });
    expect(await files.read('environments/beta/nope.yaml')).toEqual({ ok: false, problem: { file: 'environments/beta/nope.yaml', message: 'does not exist' } });
  });

  it('reads a binary blob byte for byte (a file copied into a container), text files as UTF-8', async () => {
    const remote = await bareRemote(seed);
    const person = await cloneOf(remote);
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, ...Array.from({ length: 256 }, (_, i) => i)]);
    await writeFile(path.join(person, 'environments/alpha/logo.bin'), binary);
    await git(person, ['add', '.']);
    await git(person, ['commit', '-qm', 'binary']);
    await git(person, ['push', '-q', 'origin', 'main']);
    const repo = await daemonClone(remote);
    const files = repo.files(await repo.fetch());
    expect(await files.readBytes!('environments/alpha/logo.bin')).toEqual({ ok: true, bytes: binary });
    expect(await files.readBytes!('environments/beta/web.yaml')).toEqual({ ok: true, bytes: Buffer.from('image: app:1\n') });
  });

  it('an unreachable remote is a transient GitError naming the operation and the remote', async () => {
    const remote = await bareRemote(seed);
    const clone = await daemonClone(remote);
    // As open() leaves it: origin is the url the repository was given.
    const unreachable = 'git://127.0.0.1:1/none.git';
    await git(clone.dir, ['remote', 'set-url', 'origin', unreachable]);
    const repo = new GitRepository({ dir: clone.dir, url: unreachable, branch: 'main', sleep: noWait });
    const error = await repo.remoteHead().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect(error).toMatchObject({ transient: true, message: expect.stringMatching(/^git ls-remote .* failed: /) });
  });
});

describe('GitRepository: writing without a checkout and without force', () => {
  it('commits files on top of a revision; no change makes no commit', async () => {
    const remote = await bareRemote(seed);
    const repo = await daemonClone(remote);
    const base = await repo.fetch();
    const commit = await repo.commitFiles({ base, changes: { 'promotions/alpha.yaml': 'passed\n', 'README.md': null }, message: 'alpha: marker' });
    expect(await git(repo.dir, ['show', '--name-status', '--format=%s', commit!])).toBe('alpha: marker\n\nD\tREADME.md\nA\tpromotions/alpha.yaml');
    expect(await git(repo.dir, ['rev-parse', `${commit}^`])).toBe(base);
    expect(await repo.commitFiles({ base, changes: { 'README.md': 'config\n' }, message: 'same' })).toBeNull();
  });

  it('two daemons racing to push markers: both land exactly once, in a line, never forced', async () => {
    const remote = await bareRemote(seed);
    const [a, b] = await Promise.all([daemonClone(remote, 'a'), daemonClone(remote, 'b')]);
    const outcomes = await Promise.all([a.push(marker('alpha', 'a')), b.push(marker('beta', 'b'))]);
    expect(outcomes.map((o) => o.attempts).sort()).toEqual([1, 2]);
    expect((await subjects(remote)).sort()).toEqual(['Initial config', 'alpha: marker a', 'beta: marker b']);
    expect(await git(remote, ['rev-list', '--merges', '--count', 'main'])).toBe('0');
  });

  it('a change already upstream (a push whose answer was lost) is not pushed twice', async () => {
    const remote = await bareRemote(seed);
    const repo = await daemonClone(remote);
    await repo.push(marker('alpha', 'a'));
    const again = await repo.push(marker('alpha', 'a'));
    expect(again).toMatchObject({ changed: false, commit: await git(remote, ['rev-parse', 'main']) });
    expect(await subjects(remote)).toEqual(['alpha: marker a', 'Initial config']);
  });

  it('moves a branch only when it is still where it was (lease)', async () => {
    const remote = await bareRemote(seed, { allowForce: true });
    const repo = await daemonClone(remote);
    const base = await repo.fetch();
    const one = (await repo.commitFiles({ base, changes: { 'x.txt': '1\n' }, message: 'one' }))!;
    const two = (await repo.commitFiles({ base, changes: { 'x.txt': '2\n' }, message: 'two' }))!;
    await repo.updateBranch('stagecoach/promote/beta', one, null);
    await expect(repo.updateBranch('stagecoach/promote/beta', two, null)).rejects.toThrow(GitError);
    await repo.updateBranch('stagecoach/promote/beta', two, one);
    expect(await git(remote, ['rev-parse', 'stagecoach/promote/beta'])).toBe(two);
    expect(await repo.remoteBranches('stagecoach/promote/')).toEqual([{ branch: 'stagecoach/promote/beta', commit: two }]);
  });

  it('signs its commits with an ssh key when asked', async () => {
    const dir = await tempDir();
    const key = path.join(dir, 'signing');
    await promisify(execFile)('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'stagecoach', '-f', key]);
    const remote = await bareRemote(seed);
    const repo = await daemonClone(remote);
    const base = await repo.fetch();
    const commit = await repo.commitFiles({ base, changes: { 'promotions/alpha.yaml': 'passed\n' }, message: 'signed', sign: { format: 'ssh', key } });
    expect(await git(repo.dir, ['cat-file', '-p', commit!])).toMatch(/^gpgsig -----BEGIN SSH SIGNATURE-----/m);
  });
});
