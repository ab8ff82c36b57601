import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryRepo } from '../../../src/manifest/files.js';
import { loadRepo } from '../../../src/manifest/load.js';
import { formatProblem } from '../../../src/manifest/problem.js';
import type { LoadedEnvironment } from '../../../src/manifest/types.js';
import { gateReasons } from '../../../src/promotion/gate.js';
import { envYaml, serviceYaml, validators } from '../manifest/support.js';
import { commitMarker, localRepo, markerIndexIn, markerOf, removeTemps, rev } from './support.js';

const d1 = `sha256:${'1'.repeat(64)}`;
const d2 = `sha256:${'2'.repeat(64)}`;
const d9 = `sha256:${'9'.repeat(64)}`;

/** staging (promotion.from: testing unless `from` is null) running `images` (service → image). */
async function staging(images: Record<string, string>, from: string | null = 'testing'): Promise<LoadedEnvironment> {
  const files: Record<string, string> = {
    'environments/testing/environment.yaml': envYaml('testing'),
    'environments/testing/web.yaml': serviceYaml('web'),
    'environments/staging/environment.yaml': envYaml('staging', from ? `promotion:\n  from: ${from}\n` : ''),
  };
  for (const [service, image] of Object.entries(images)) files[`environments/staging/${service}.yaml`] = serviceYaml(service, '', image);
  const result = await loadRepo(memoryRepo(files), validators);
  const env = result.environments.find((e) => e.name === 'staging')?.loaded;
  if (!env) throw new Error(result.problems.map(formatProblem).join('\n'));
  return env;
}

/**
 * testing's history: a passing marker at aaaaaaa (web app:1 with digest d1,
 * worker job:1 without one), then a failing one at bbbbbbb (web app:2 with d2).
 */
let index: ReturnType<typeof markerIndexIn>;
let empty: ReturnType<typeof markerIndexIn>;
const latest = "testing's latest marker: failed at bbbbbbb with web=app:2, worker=job:1";

beforeAll(async () => {
  const dir = await localRepo({ 'README.md': 'config\n' });
  await commitMarker(dir, markerOf('testing', rev('a'), { web: ['app:1', d1], worker: 'job:1' }, ['passed']));
  await commitMarker(dir, markerOf('testing', rev('b'), { web: ['app:2', d2], worker: 'job:1' }, ['passed', 'failed']));
  index = markerIndexIn(dir);
  expect(await index.refreshHead()).toBe(2);
  empty = markerIndexIn(await localRepo({ 'README.md': 'config\n' }));
  await empty.refreshHead();
});

afterAll(removeTemps);

describe('gateReasons', () => {
  it.each([
    ['every image passed upstream, digests unknown', { web: 'app:1', worker: 'job:1' }, {}],
    ['the image and its digest passed upstream', { web: 'app:1' }, { 'app:1': d1 }],
    ['another reference to the same digest passed upstream', { web: `registry.example.com/app@${d1}` }, { [`registry.example.com/app@${d1}`]: d1 }],
    ['the digest is known here but upstream recorded none for that image', { worker: 'job:1' }, { 'job:1': d9 }],
  ])('is open when %s', async (_name, images, digests) => {
    expect(gateReasons(await staging(images), index, digests)).toEqual([]);
  });

  it.each([
    ['the image only has a failing marker', { web: 'app:2', worker: 'job:1' }, {}, [`image app:2 of service web has no passing marker in testing (${latest})`]],
    [
      'no marker mentions the images',
      { web: 'app:3', worker: 'job:3' },
      {},
      [`image app:3 of service web has no passing marker in testing (${latest})`, `image job:3 of service worker has no passing marker in testing (${latest})`],
    ],
    ['the reference differs only by registry', { web: 'docker.io/library/app:1' }, {}, [`image docker.io/library/app:1 of service web has no passing marker in testing (${latest})`]],
    ['the digest is that of the failing marker', { web: 'app:2' }, { 'app:2': d2 }, [`image app:2 of service web has no passing marker in testing (${latest})`]],
    // The tag app:1 passed upstream as d1; here it now resolves to d9, an image nobody verified.
    ['the tag passed upstream but now points at another digest', { web: 'app:1' }, { 'app:1': d9 }, [`image app:1 of service web has no passing marker in testing (${latest})`]],
  ])('is blocked when %s, naming the image and where upstream stands', async (_name, images, digests, reasons) => {
    expect(gateReasons(await staging(images), index, digests)).toEqual(reasons);
  });

  it('is blocked, saying upstream has no markers yet, before upstream ever verified', async () => {
    expect(gateReasons(await staging({ web: 'app:1' }), empty, {})).toEqual(['image app:1 of service web has no passing marker in testing (testing has no markers yet)']);
  });

  it('is open for an environment without promotion.from, whatever it runs', async () => {
    expect(gateReasons(await staging({ web: 'never-verified:9' }, null), empty, {})).toEqual([]);
  });

  it('says "no services" when upstream’s latest marker recorded none', async () => {
    const dir = await localRepo({ 'README.md': 'config\n' });
    await commitMarker(dir, markerOf('testing', rev('c'), {}, []));
    const own = markerIndexIn(dir);
    await own.refreshHead();
    expect(gateReasons(await staging({ web: 'app:1' }), own, {})).toEqual(["image app:1 of service web has no passing marker in testing (testing's latest marker: passed at ccccccc with no services)"]);
  });
});
