import { afterAll, describe, expect, it } from 'vitest';
import { commitFiles, commitMarker, git, localRepo, markerIndexIn, markerOf, removeTemps, rev } from './support.js';

const d1 = `sha256:${'1'.repeat(64)}`;

afterAll(removeTemps);

/** A repo whose history holds, oldest first: the manifests, a passing testing marker, a manifest change, a staging marker, a failing testing marker. */
async function history() {
  const dir = await localRepo({ 'environments/testing/web.yaml': 'image: app:1\n' });
  const passed = await commitMarker(dir, markerOf('testing', rev('a'), { web: ['app:1', d1] }, ['passed', 'passed']));
  await commitFiles(dir, { 'environments/testing/web.yaml': 'image: app:2\n' }, 'testing: web app:2');
  const stagingMarker = await commitMarker(dir, markerOf('staging', rev('b'), { web: 'app:1' }, ['passed']));
  const failed = await commitMarker(dir, markerOf('testing', rev('c'), { web: 'app:2' }, ['failed']));
  return { dir, passed, stagingMarker, failed };
}

const summary = (ref: { commit: string; environment: string; revision: string; result: string; author: string } | undefined) =>
  ref && `${ref.commit.slice(0, 7)} ${ref.environment} ${ref.result} at ${ref.revision.slice(0, 7)} by ${ref.author}`;

describe('MarkerIndex', () => {
  it('builds from history: every marker commit, by environment, and nothing else', async () => {
    const { dir, passed, stagingMarker, failed } = await history();
    const index = markerIndexIn(dir);
    expect(await index.refreshHead()).toBe(3);
    expect(summary(index.latest('testing'))).toBe(`${failed.slice(0, 7)} testing failed at ccccccc by Test User`);
    expect(summary(index.latest('staging'))).toBe(`${stagingMarker.slice(0, 7)} staging passed at bbbbbbb by Test User`);
    expect(index.latest('production')).toBeUndefined();
    expect(index.latest('testing')).toMatchObject({ images: [{ service: 'web', image: 'app:2', digest: null }] });
    expect(summary(index.passing('testing', 'app:1', null))).toBe(`${passed.slice(0, 7)} testing passed at aaaaaaa by Test User`);
    expect(index.latest('testing')!.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-Z]/);
  });

  it.each([
    ['by exact reference', 'app:1', null, 'aaaaaaa'],
    ['by digest, whatever the reference', 'registry.example.com/app:renamed', d1, 'aaaaaaa'],
    ['not an image that only failed', 'app:2', null, undefined],
    ['not an image never verified', 'app:9', null, undefined],
    ['not in another environment', 'app:1', null, undefined, 'production'],
  ])('finds passing markers %s', async (_name, image, digest, revision, environment = 'testing') => {
    const { dir } = await history();
    const index = markerIndexIn(dir);
    await index.refreshHead();
    expect(index.passing(environment, image, digest)?.revision.slice(0, 7)).toBe(revision);
  });

  it('reads only the new commits on refresh and returns how many markers it read', async () => {
    const { dir } = await history();
    const index = markerIndexIn(dir);
    expect(await index.refreshHead()).toBe(3);
    expect(await index.refreshHead()).toBe(0);

    const next = await commitMarker(dir, markerOf('testing', rev('d'), { web: 'app:3' }, ['passed']));
    expect(await index.refreshHead()).toBe(1);
    expect(index.latest('testing')?.commit).toBe(next);
    expect(index.passing('testing', 'app:3', null)?.commit).toBe(next);
    // Older entries survive an incremental refresh.
    expect(index.passing('testing', 'app:1', null)?.revision).toBe(rev('a'));
    expect(index.latest('staging')?.revision).toBe(rev('b'));

    await commitFiles(dir, { 'environments/testing/web.yaml': 'image: app:4\n' }, 'testing: web app:4');
    expect(await index.refreshHead()).toBe(0);

    await commitMarker(dir, markerOf('staging', rev('e'), { web: 'app:3' }, ['passed']));
    await commitMarker(dir, markerOf('testing', rev('f'), { web: 'app:4' }, ['failed']));
    expect(await index.refreshHead()).toBe(2);
    expect(index.latest('testing')?.result).toBe('failed');
    expect(index.passing('testing', 'app:3', null)?.revision).toBe(rev('d'));
  });

  it('ignores a hand edit under promotions/ that has no stagecoach trailers', async () => {
    const { dir } = await history();
    const index = markerIndexIn(dir);
    await index.refreshHead();
    await commitFiles(dir, { 'promotions/testing.yaml': '# cleared by hand\n' }, 'clear testing marker\n\nStagecoach-Environment: testing');
    expect(await index.refreshHead()).toBe(0);
    expect(index.latest('testing')?.revision).toBe(rev('c'));
  });

  it('a later failure does not take back an earlier pass of the same image; a later pass is the one found', async () => {
    const { dir, passed } = await history();
    await commitMarker(dir, markerOf('testing', rev('d'), { web: 'app:1' }, ['failed']));
    const index = markerIndexIn(dir);
    await index.refreshHead();
    expect(index.passing('testing', 'app:1', null)?.commit).toBe(passed);
    const again = await commitMarker(dir, markerOf('testing', rev('e'), { web: 'app:1' }, ['passed']));
    await index.refreshHead();
    expect(index.passing('testing', 'app:1', null)?.commit).toBe(again);
  });

  it('rebuilds from scratch when history was rewritten (force-reset), forgetting markers that are gone', async () => {
    const { dir, passed, failed } = await history();
    const index = markerIndexIn(dir);
    await index.refreshHead();
    expect(index.latest('testing')?.commit).toBe(failed);

    await git(dir, ['reset', '-q', '--hard', passed]);
    expect(await index.refreshHead()).toBe(1);
    expect(index.latest('testing')?.commit).toBe(passed);
    expect(index.latest('staging')).toBeUndefined();

    // A different marker on the rewritten branch: incremental again from there.
    const other = await commitMarker(dir, markerOf('testing', rev('9'), { web: 'app:9' }, ['passed']));
    expect(await index.refreshHead()).toBe(1);
    expect(index.passing('testing', 'app:9', null)?.commit).toBe(other);
    expect(index.passing('testing', 'app:2', null)).toBeUndefined();
  });

  it('rebuilds when HEAD moves to an unrelated history with the same marker count', async () => {
    const { dir } = await history();
    const index = markerIndexIn(dir);
    await index.refreshHead();
    await git(dir, ['checkout', '-q', '--orphan', 'fresh']);
    await git(dir, ['rm', '-rq', '--cached', '.']);
    const only = await commitMarker(dir, markerOf('testing', rev('7'), { web: 'app:7' }, ['passed']));
    expect(await index.refreshHead()).toBe(1);
    expect(index.latest('testing')?.commit).toBe(only);
    expect(index.passing('testing', 'app:1', null)).toBeUndefined();
  });
});
