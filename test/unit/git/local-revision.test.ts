import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { localRevision, revisionFromStatus } from '../../../src/git/local-revision.js';

const sha = 'a'.repeat(40);

describe('revisionFromStatus', () => {
  it.each([
    ['a clean checkout', `# branch.oid ${sha}\n# branch.head main\n`, sha],
    ['a detached HEAD', `# branch.oid ${sha}\n# branch.head (detached)\n`, sha],
    ['a changed file', `# branch.oid ${sha}\n# branch.head main\n1 .M N... 100644 100644 100644 ${sha} ${sha} environments/a/web.yaml\n`, `${sha}+dirty`],
    ['an untracked file', `# branch.oid ${sha}\n# branch.head main\n? environments/a/new.yaml\n`, `${sha}+dirty`],
    ['a repo without a commit', '# branch.oid (initial)\n# branch.head main\n', 'unversioned'],
    ['nothing at all', '', 'unversioned'],
  ])('%s', (_name, stdout, expected) => {
    expect(revisionFromStatus(stdout)).toBe(expected);
  });
});

describe('localRevision, with git', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  const git = (dir: string, ...args: string[]) => promisify(execFile)('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir });

  it('is the HEAD commit, +dirty once a file under environments/ changes or appears, and unversioned outside git or before the first commit', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stagecoach-rev-'));
    dirs.push(dir);
    expect(await localRevision(dir)).toBe('unversioned');
    await git(dir, 'init', '-q');
    await mkdir(path.join(dir, 'environments/a'), { recursive: true });
    await writeFile(path.join(dir, 'environments/a/web.yaml'), 'name: web\n');
    expect(await localRevision(dir)).toBe('unversioned');
    await git(dir, 'add', '-A');
    await git(dir, 'commit', '-qm', 'first');
    const head = (await git(dir, 'rev-parse', 'HEAD')).stdout.trim();
    expect(await localRevision(dir)).toBe(head);
    await writeFile(path.join(dir, 'README.md'), 'outside environments/\n');
    expect(await localRevision(dir)).toBe(head);
    await writeFile(path.join(dir, 'environments/a/new.yaml'), 'name: new\n');
    expect(await localRevision(dir)).toBe(`${head}+dirty`);
    await rm(path.join(dir, 'environments/a/new.yaml'));
    await writeFile(path.join(dir, 'environments/a/web.yaml'), 'name: changed\n');
    expect(await localRevision(dir)).toBe(`${head}+dirty`);
  });
});
