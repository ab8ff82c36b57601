import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentHistory } from '../../../src/promotion/history.js';
import { proposeInClone } from '../../../src/promotion/propose.js';
import { rollbackEnvironment } from '../../../src/promotion/rollback.js';
import { envYaml, serviceYaml } from '../manifest/support.js';
import { commitFiles, commitMarker, git, localRepo, markerOf, removeTemps, repoAt, rev } from './support.js';

afterAll(removeTemps);

/**
 * One repo's life, oldest first: the manifests; testing passes at aaaaaaa;
 * staging gets web app:2 by a merged proposal; staging fails at bbbbbbb;
 * staging is rolled back to the start; testing moves to app:3; the README changes.
 */
let dir: string;
let initial: string;
beforeAll(async () => {
  dir = await localRepo({
    'README.md': 'config\n',
    'environments/testing/environment.yaml': envYaml('testing'),
    'environments/testing/web.yaml': serviceYaml('web', '', 'app:1'),
    'environments/staging/environment.yaml': envYaml('staging', 'promotion:\n  from: testing\n'),
    'environments/staging/web.yaml': serviceYaml('web', '', 'app:1'),
  });
  initial = await git(dir, ['rev-parse', 'HEAD']);
  await commitMarker(dir, markerOf('testing', rev('a'), { web: 'app:1' }, ['passed']));
  const proposal = await proposeInClone(dir, { branch: 'main', from: 'testing', to: 'staging', images: { web: 'app:2' }, verifiedAt: rev('a'), mode: 'branch', by: 'alice' });
  await git(dir, ['merge', '-q', '--ff-only', proposal.ref]);
  await commitMarker(dir, markerOf('staging', rev('b'), { web: 'app:2' }, ['failed']));
  await rollbackEnvironment({ dir, env: 'staging', to: initial, reason: 'app:2 breaks checkout' });
  await commitFiles(dir, { 'environments/testing/web.yaml': serviceYaml('web', '', 'app:3') }, 'testing: web app:3');
  await commitFiles(dir, { 'README.md': 'config, documented\n' }, 'docs');
});

const lines = (entries: Awaited<ReturnType<typeof environmentHistory>>) => entries.map((e) => `${e.kind}: ${e.subject}${e.result ? ` [${e.result} ${e.tests} at ${e.revision?.slice(0, 7)}]` : ''}`);

describe('environmentHistory', () => {
  it('lists an environment’s rollbacks, markers, promotions and changes, newest first', async () => {
    expect(lines(await environmentHistory(repoAt(dir), 'staging'))).toEqual([
      `rollback: rollback staging to ${initial.slice(0, 7)}: app:2 breaks checkout`,
      'marker: staging: failed 0/1 tests at bbbbbbb [failed 0/1 at bbbbbbb]',
      'promotion: promote staging: web app:2',
      'change: Initial config',
    ]);
  });

  it('shows only what concerns that environment', async () => {
    expect(lines(await environmentHistory(repoAt(dir), 'testing'))).toEqual([
      'change: testing: web app:3',
      'marker: testing: passed 1/1 tests at aaaaaaa [passed 1/1 at aaaaaaa]',
      'change: Initial config',
    ]);
  });

  it('gives each entry its commit, time and author', async () => {
    const [newest] = await environmentHistory(repoAt(dir), 'testing');
    expect(newest).toEqual({
      commit: await git(dir, ['rev-parse', 'HEAD~1']),
      at: await git(dir, ['log', '-1', '--format=%aI', 'HEAD~1']),
      author: 'Test User <user@example.com>',
      subject: 'testing: web app:3',
      kind: 'change',
    });
  });

  it.each([
    [1, ['rollback']],
    [2, ['rollback', 'marker']],
    [10, ['rollback', 'marker', 'promotion', 'change']],
  ])('stops after the limit (%i)', async (limit, kinds) => {
    expect((await environmentHistory(repoAt(dir), 'staging', limit)).map((e) => e.kind)).toEqual(kinds);
  });

  it('is empty for an environment that never existed', async () => {
    expect(await environmentHistory(repoAt(dir), 'production')).toEqual([]);
  });
});
