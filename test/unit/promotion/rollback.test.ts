import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { rollbackEnvironment } from '../../../src/promotion/rollback.js';
import { envYaml, serviceYaml } from '../manifest/support.js';
import { bareRemote, cloneOf, commitFiles, git, localRepo, removeTemps, subjects } from './support.js';

afterAll(removeTemps);

const seed = {
  'environments/testing/environment.yaml': envYaml('testing'),
  'environments/testing/web.yaml': serviceYaml('web', '', 'app:1'),
  'environments/staging/environment.yaml': envYaml('staging'),
  'environments/staging/web.yaml': serviceYaml('web', '', 'app:1'),
};

/** main: the seed (good), then staging gets web app:2 and a new cache service (bad), then testing moves on. */
async function history(dir: string) {
  const good = await git(dir, ['rev-parse', 'HEAD']);
  const bad = await commitFiles(dir, { 'environments/staging/web.yaml': serviceYaml('web', '', 'app:2'), 'environments/staging/cache.yaml': serviceYaml('cache', '', 'redis:7') }, 'staging: web app:2, add cache');
  const later = await commitFiles(dir, { 'environments/testing/web.yaml': serviceYaml('web', '', 'app:3') }, 'testing: web app:3');
  return { good, bad, later };
}

const tree = (dir: string, ref: string, folder: string) => git(dir, ['ls-tree', '-r', ref, '--', folder]);

describe('rollbackEnvironment', () => {
  it('restores environments/<env>/ as of REV in a new commit (files added later are removed) and pushes it', async () => {
    const remote = await bareRemote(seed);
    const clone = await cloneOf(remote, 'Ann Operator', 'ann@example.com');
    const { good, later } = await history(clone);
    await git(clone, ['push', '-q', 'origin', 'main']);

    const result = await rollbackEnvironment({ dir: clone, env: 'staging', to: good.slice(0, 10), reason: 'app:2 breaks checkout' });
    const head = await git(remote, ['rev-parse', 'main']);
    expect(result).toEqual({ outcome: 'committed', commit: head, pushed: true, message: `committed and pushed ${head.slice(0, 7)} to origin/main` });
    expect(await tree(remote, 'main', 'environments/staging')).toBe(await tree(remote, good, 'environments/staging'));
    expect(await git(remote, ['ls-tree', '-r', '--name-only', 'main', '--', 'environments/staging'])).toBe('environments/staging/environment.yaml\nenvironments/staging/web.yaml');
    // Other environments keep their later changes; the rollback is a new commit on top, not a reset.
    expect(await tree(remote, 'main', 'environments/testing')).toBe(await tree(remote, later, 'environments/testing'));
    expect(await git(remote, ['rev-parse', 'main~1'])).toBe(later);
    expect(await git(remote, ['log', '-1', '--format=%an <%ae>%n%B', 'main'])).toBe(
      [
        'Ann Operator <ann@example.com>',
        `rollback staging to ${good.slice(0, 7)}: app:2 breaks checkout`,
        '',
        `Restores environments/staging/ as it was at ${good.slice(0, 7)} ("Initial config").`,
        'Requested by Ann Operator <ann@example.com>: app:2 breaks checkout',
        '',
        'Stagecoach-Rollback-Environment: staging',
        `Stagecoach-Rollback-To: ${good}`,
      ].join('\n'),
    );
    expect(await git(clone, ['status', '--porcelain'])).toBe('');
  });

  it('rebases onto a remote that moved meanwhile, without force', async () => {
    const remote = await bareRemote(seed);
    const clone = await cloneOf(remote);
    const { good } = await history(clone);
    await git(clone, ['push', '-q', 'origin', 'main']);
    const other = await cloneOf(remote);
    await commitFiles(other, { 'README.md': 'hello\n' }, 'readme');
    await git(other, ['push', '-q', 'origin', 'main']);

    const result = await rollbackEnvironment({ dir: clone, env: 'staging', to: good, reason: 'bad deploy' });
    expect(result.pushed).toBe(true);
    expect((await subjects(remote)).slice(0, 2)).toEqual([`rollback staging to ${good.slice(0, 7)}: bad deploy`, 'readme']);
  });

  it('commits without pushing when there is no origin, and says so', async () => {
    const dir = await localRepo(seed);
    const { good } = await history(dir);
    const result = await rollbackEnvironment({ dir, env: 'staging', to: good, reason: 'bad deploy' });
    const head = await git(dir, ['rev-parse', 'HEAD']);
    expect(result).toEqual({ outcome: 'committed', commit: head, pushed: false, message: `committed ${head.slice(0, 7)} (no origin remote to push to)` });
    expect(await tree(dir, 'HEAD', 'environments/staging')).toBe(await tree(dir, good, 'environments/staging'));
  });

  it('accepts any revision git understands (HEAD~2)', async () => {
    const dir = await localRepo(seed);
    const { good } = await history(dir);
    await rollbackEnvironment({ dir, env: 'staging', to: 'HEAD~2', reason: 'bad deploy' });
    expect(await git(dir, ['log', '-1', '--format=%s'])).toBe(`rollback staging to ${good.slice(0, 7)}: bad deploy`);
  });

  it('is unchanged, committing nothing, when the environment already matches REV', async () => {
    const dir = await localRepo(seed);
    const { later } = await history(dir);
    const result = await rollbackEnvironment({ dir, env: 'staging', to: 'HEAD~1', reason: 'just in case' });
    expect(result).toEqual({ outcome: 'unchanged', pushed: false, message: `environments/staging already matches ${(await git(dir, ['rev-parse', 'HEAD~1'])).slice(0, 7)}` });
    expect(await git(dir, ['rev-parse', 'HEAD'])).toBe(later);
    expect(await git(dir, ['status', '--porcelain'])).toBe('');
  });

  it.each([
    ['an unknown revision', 'staging', 'no-such-rev', (dir: string) => `revision no-such-rev does not exist in ${dir}`],
    ['a revision that is not a commit-ish', 'staging', 'deadbeefdeadbeef', (dir: string) => `revision deadbeefdeadbeef does not exist in ${dir}`],
    ['an environment that did not exist at REV', 'production', 'HEAD', (_dir: string, head: string) => `environments/production did not exist at ${head.slice(0, 7)}; nothing to roll back to`],
  ])('refuses %s with a UsageError', async (_name, env, to, message) => {
    const dir = await localRepo(seed);
    await history(dir);
    const head = await git(dir, ['rev-parse', 'HEAD']);
    const error = await rollbackEnvironment({ dir, env, to, reason: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(message(dir, head));
    expect(await git(dir, ['rev-parse', 'HEAD'])).toBe(head);
  });

  it('refuses to roll back over uncommitted changes in the environment, and leaves them alone', async () => {
    const dir = await localRepo(seed);
    const { good } = await history(dir);
    await writeFile(path.join(dir, 'environments/staging/web.yaml'), serviceYaml('web', '', 'app:hotfix'));
    const error = await rollbackEnvironment({ dir, env: 'staging', to: good, reason: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(`environments/staging has uncommitted changes in ${dir}; commit or stash them first`);
    expect(await git(dir, ['status', '--porcelain'])).toBe('M environments/staging/web.yaml');
  });

  it('commits only the environment’s folder, leaving a change staged elsewhere out of the rollback', async () => {
    const dir = await localRepo(seed);
    const { good } = await history(dir);
    await writeFile(path.join(dir, 'environments/testing/web.yaml'), serviceYaml('web', '', 'app:wip'));
    await git(dir, ['add', 'environments/testing/web.yaml']);
    await rollbackEnvironment({ dir, env: 'staging', to: good, reason: 'bad deploy' });
    expect((await git(dir, ['show', '--name-only', '--format=', 'HEAD'])).split('\n').sort()).toEqual(['environments/staging/cache.yaml', 'environments/staging/web.yaml']);
  });
});
