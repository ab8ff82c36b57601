import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildMarker, markerCommitMessage, markerPath, markerYaml, parseTrailers } from '../../../src/promotion/marker.js';
import type { PromotionMarker } from '../../../src/promotion/marker.js';
import { validators } from '../manifest/support.js';
import { commitMarker, git, localRepo, markerOf, removeTemps, testResult } from './support.js';

const revision = '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d';
const digest = `sha256:${'ab'.repeat(32)}`;

afterAll(removeTemps);

describe('buildMarker', () => {
  it.each([
    ['every test passed', ['passed', 'passed'], 'passed'],
    ['one test failed', ['passed', 'failed'], 'failed'],
    ['one test could not run', ['error', 'passed'], 'failed'],
    ['no tests configured', [], 'passed'],
  ] as const)('%s → %s', (_name, outcomes, expected) => {
    expect(markerOf('testing', revision, { web: 'app:1' }, [...outcomes]).result).toBe(expected);
  });

  it('records what ran and every test, without the output tail', () => {
    const marker = buildMarker({
      environment: 'testing',
      revision,
      startedAt: new Date('2026-01-02T03:04:05.000Z'),
      finishedAt: new Date('2026-01-02T03:04:07.500Z'),
      trigger: 'deploy',
      services: { web: { image: 'app:1', digest, imageId: 'sha256:local' } },
      tests: [{ ...testResult('home', 'failed', 'web exited with code 3'), kind: 'exec', attempts: 2, output: 'secret-ish log line' }],
    });
    expect(marker).toEqual({
      apiVersion: 'stagecoach/v1',
      kind: 'PromotionMarker',
      environment: 'testing',
      revision,
      result: 'failed',
      startedAt: '2026-01-02T03:04:05.000Z',
      finishedAt: '2026-01-02T03:04:07.500Z',
      trigger: 'deploy',
      services: { web: { image: 'app:1', digest, imageId: 'sha256:local' } },
      tests: [{ name: 'home', kind: 'exec', result: 'failed', durationMs: 12, attempts: 2, message: 'web exited with code 3' }],
    });
  });
});

describe('markerCommitMessage', () => {
  it('says the result, the counts and the short revision, lists each test and ends with trailers', () => {
    const marker = buildMarker({
      environment: 'testing',
      revision,
      startedAt: new Date(0),
      finishedAt: new Date(1000),
      trigger: 'deploy',
      services: { web: { image: 'registry.example.com/shop/web:1.4', digest, imageId: null }, worker: { image: 'shop/worker:1.4', digest: null, imageId: null } },
      tests: [testResult('home', 'passed', '200 from GET http://web/'), testResult('api', 'failed', 'expected 200, got 503 from GET http://api/health'), testResult('smoke', 'passed', 'smoke:1 exited 0')],
    });
    expect(markerCommitMessage(marker)).toBe(
      [
        'testing: failed 2/3 tests at 1a2b3c4',
        '',
        '- home: passed (200 from GET http://web/)',
        '- api: failed (expected 200, got 503 from GET http://api/health)',
        '- smoke: passed (smoke:1 exited 0)',
        '',
        'Stagecoach-Environment: testing',
        `Stagecoach-Revision: ${revision}`,
        'Stagecoach-Result: failed',
        `Stagecoach-Image: web registry.example.com/shop/web:1.4 ${digest}`,
        'Stagecoach-Image: worker shop/worker:1.4',
        '',
      ].join('\n'),
    );
  });

  it.each([
    ['all passed', ['passed', 'passed', 'passed'], 'staging: passed 3/3 tests at 1a2b3c4'],
    ['none passed', ['failed', 'error'], 'staging: failed 0/2 tests at 1a2b3c4'],
    ['no tests', [], 'staging: passed 0/0 tests at 1a2b3c4'],
  ] as const)('subject when %s', (_name, outcomes, subject) => {
    expect(markerCommitMessage(markerOf('staging', revision, { web: 'app:1' }, [...outcomes])).split('\n')[0]).toBe(subject);
  });

  it('says so when no tests are configured', () => {
    expect(markerCommitMessage(markerOf('testing', revision, {}, []))).toBe(
      `testing: passed 0/0 tests at 1a2b3c4\n\n(no tests configured)\n\nStagecoach-Environment: testing\nStagecoach-Revision: ${revision}\nStagecoach-Result: passed\n`,
    );
  });
});

describe('parseTrailers', () => {
  it('reads back what markerCommitMessage wrote', () => {
    const marker = markerOf('testing', revision, { web: ['app:1', digest], worker: 'job:7' }, ['passed', 'failed']);
    const trailers = markerCommitMessage(marker).split('\n\n').at(-1)!;
    expect(parseTrailers(trailers)).toEqual({
      environment: 'testing',
      revision,
      result: 'failed',
      images: [
        { service: 'web', image: 'app:1', digest },
        { service: 'worker', image: 'job:7', digest: null },
      ],
    });
  });

  it.each([
    ['no trailers', ''],
    ['a person’s commit with other trailers', 'Signed-off-by: Ann <ann@example.com>\nCo-authored-by: Bob <bob@example.com>'],
    ['environment only', 'Stagecoach-Environment: testing'],
    ['no result', `Stagecoach-Environment: testing\nStagecoach-Revision: ${revision}`],
    ['a rollback', `Stagecoach-Rollback-Environment: testing\nStagecoach-Rollback-To: ${revision}`],
  ])('is undefined for %s', (_name, text) => {
    expect(parseTrailers(text)).toBeUndefined();
  });

  it('round-trips through a real commit and git’s own trailer parser', async () => {
    const dir = await localRepo({ 'README.md': 'config\n' });
    const marker = markerOf('testing', revision, { web: ['app:1', digest], worker: 'job:7' }, ['passed', 'passed']);
    const commit = await commitMarker(dir, marker);
    const trailers = await git(dir, ['log', '-1', '--format=%(trailers:only,unfold)', commit]);
    expect(parseTrailers(trailers)).toEqual({
      environment: 'testing',
      revision,
      result: 'passed',
      images: [
        { service: 'web', image: 'app:1', digest },
        { service: 'worker', image: 'job:7', digest: null },
      ],
    });
    expect(await git(dir, ['log', '-1', '--format=%s', commit])).toBe('testing: passed 2/2 tests at 1a2b3c4');
    expect(await git(dir, ['show', '--name-only', '--format=', commit])).toBe(markerPath('testing'));
  });
});

describe('markerYaml', () => {
  it.each([
    ['a passing marker with digests', markerOf('testing', revision, { web: ['app:1', digest], worker: 'job:7' }, ['passed'])],
    ['a failing marker with an error', markerOf('staging', revision, { web: 'app:1' }, ['failed', 'error'])],
    ['a marker without services or tests', markerOf('production', revision, {}, [])],
  ])('validates against the PromotionMarker schema: %s', (_name, marker: PromotionMarker) => {
    const text = markerYaml(marker);
    const doc = parse(text) as unknown;
    const valid = validators.PromotionMarker(doc);
    expect(validators.PromotionMarker.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(doc).toEqual(marker);
  });

  it('says who wrote it and points editors at the schema', () => {
    const lines = markerYaml(markerOf('testing', revision, { web: 'app:1' })).split('\n');
    expect(lines.slice(0, 4)).toEqual([
      '# Written by stagecoach after verifying testing; do not edit.',
      '# yaml-language-server: $schema=../schemas/promotion-marker.schema.json',
      'apiVersion: stagecoach/v1',
      'kind: PromotionMarker',
    ]);
  });

  it('is rejected by the schema when a field is wrong (the check can fail)', () => {
    const doc = parse(markerYaml(markerOf('testing', revision, { web: 'app:1' }))) as Record<string, unknown>;
    expect(validators.PromotionMarker({ ...doc, result: 'maybe' })).toBe(false);
    expect(validators.PromotionMarker({ ...doc, revision: 'abc' })).toBe(false);
  });
});
