import { describe, expect, it } from 'vitest';
import { envFiles, harness, harnessPerTest, intervalMs, twoEnvironments } from './support.js';

const { started, stopWith } = harnessPerTest();

const two = twoEnvironments;

describe('the config repo is unreachable', () => {
  it('keeps serving, polls less often (up to 8×), says why, and catches up when it returns', async () => {
    const h = await started(two);
    await h.poll();
    h.git.down = true;
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [next] = h.clock.waiting();
      delays.push(Math.round(next! / intervalMs));
      await h.clock.advance(next!);
      await h.settle();
    }
    expect(delays).toEqual([1, 2, 4, 8, 8]);
    expect(h.daemon.snapshot().remote.error).toBe('git ls-remote fake://config.git failed: Connection refused');
    expect(h.env('alpha').state).toBe('synced');
    const pushed = h.git.land(envFiles('alpha', 'app:2'), 'alpha: app:2 while the remote is down');
    h.git.down = false;
    await h.clock.advance(h.clock.waiting()[0]!);
    await h.settle();
    expect(h.daemon.snapshot().remote.error).toBeNull();
    expect(h.env('alpha').decisions.some((d) => d.kind === 'deploy' && d.revision === pushed)).toBe(true);
    expect(Math.round(h.clock.waiting()[0]! / intervalMs)).toBe(1);
  });
});

describe('transient failures are retried with backoff; deterministic ones wait for a new revision', () => {
  it('the engine is down: unreachable, retrying in 1 s, 2 s, 4 s; converges once it answers', async () => {
    const h = await started(envFiles('alpha', 'app:1'), { start: false });
    h.runtime.down = true;
    h.daemon.start();
    await h.settle();
    expect(h.env('alpha')).toMatchObject({ state: 'unreachable', retryingInMs: 1000 });
    expect(h.env('alpha').errors).toContain('retrying in 1 s');
    const seen: (number | null | undefined)[] = [];
    for (let i = 0; i < 2; i++) {
      await h.clock.advance(h.env('alpha').retryingInMs!);
      await h.settle();
      seen.push(h.env('alpha').retryingInMs);
    }
    expect(seen).toEqual([2000, 4000]);
    h.runtime.down = false;
    await h.clock.advance(4000);
    await h.settle();
    expect(h.env('alpha')).toMatchObject({ state: 'synced', retryingInMs: null, errors: [] });
    expect(h.runtime.names()).toEqual(['alpha-web app:1 running']);
  });

  it('the image is absent and the registry unreachable: retried until the pull works, no new commit needed', async () => {
    const h = await started(envFiles('alpha', 'app:9'), { start: false });
    h.runtime.registryDown = true;
    h.daemon.start();
    await h.settle();
    expect(h.env('alpha').state).toBe('degraded');
    expect(h.env('alpha').errors).toEqual([expect.stringMatching(/^web: image app:9 is not present .* the registry is unreachable/), 'retrying in 1 s']);
    h.runtime.registryDown = false;
    h.runtime.addImage('app:9');
    await h.clock.advance(1000);
    await h.settle();
    expect(h.env('alpha')).toMatchObject({ state: 'synced', retryingInMs: null });
    expect(h.runtime.names()).toEqual(['alpha-web app:9 running']);
  });

  it('a rollback on failed health is not retried until a new revision or a manual sync', async () => {
    const h = await started(envFiles('alpha', 'app:1', ''));
    h.runtime.failing.set('app:2', 'unhealthy');
    const bad = h.git.land({ 'environments/alpha/web.yaml': envFiles('alpha', 'app:2')['environments/alpha/web.yaml']! + 'healthcheck:\n  test: ["CMD", "true"]\n' }, 'alpha: app:2');
    await h.poll();
    expect(h.env('alpha').decisions.some((d) => d.kind === 'rollback' && d.revision === bad)).toBe(true);
    expect(h.env('alpha').retryingInMs ?? null).toBeNull();
    expect(h.clock.waiting()).toHaveLength(1); // the poll only: no retry timer
    const applies = (await h.counts('alpha')).applies;
    h.daemon.trigger({ kind: 'docker-event', reason: 'docker event', heal: ['alpha'], remote: false });
    await h.settle();
    expect((await h.counts('alpha')).applies).toBe(applies);
    expect(h.env('alpha').decisions[0]).toMatchObject({ kind: 'skip', reason: expect.stringContaining('not retried until a new revision or a manual sync') });
    h.runtime.failing.delete('app:2');
    h.daemon.syncNow('sync API');
    await h.settle();
    expect(h.runtime.names()).toEqual(['alpha-web app:2 running']);
  });
});

describe('markers', () => {
  it('a marker whose push fails is kept and pushed at a later cycle, exactly once', async () => {
    const h = await started(envFiles('alpha', 'app:1'), { start: false });
    h.git.failPushes = true;
    h.daemon.start();
    await h.settle();
    expect(h.env('alpha').decisions[0]).toMatchObject({ kind: 'error', reason: expect.stringContaining('not pushed yet') });
    expect(h.git.subjects().filter((s) => s.startsWith('alpha: '))).toEqual([]);
    await h.poll();
    expect(h.git.subjects().filter((s) => s.startsWith('alpha: '))).toEqual([]);
    h.git.failPushes = false;
    await h.poll();
    expect(h.git.subjects().filter((s) => s.startsWith('alpha: '))).toEqual([expect.stringMatching(/^alpha: passed 0\/0 tests at /)]);
    expect(h.env('alpha').lastMarker).toMatchObject({ result: 'passed', commit: h.git.head() });
    await h.poll();
    expect(h.git.subjects().filter((s) => s.startsWith('alpha: '))).toHaveLength(1);
  });

  it('others pushing first: the marker is rebuilt on their commit, never forced', async () => {
    const h = await started(envFiles('alpha', 'app:1'), { start: false });
    h.git.rejectPushes = 2;
    h.daemon.start();
    await h.settle();
    expect(h.git.subjects().slice(0, 4)).toEqual([expect.stringMatching(/^alpha: passed/), 'someone else', 'someone else', 'Initial config']);
    expect(h.env('alpha').decisions[0]!.reason).toMatch(/pushed \(3 attempts\)$/);
  });
});

describe('the promotion gate', () => {
  it('blocks an image not verified upstream, and opens when the upstream marker lands', async () => {
    const files = { ...envFiles('alpha', 'app:1'), ...envFiles('beta', 'app:2', 'promotion:\n  from: alpha\n  auto: off\n') };
    const h = await started(files);
    expect(h.env('beta')).toMatchObject({ state: 'blocked', gate: { from: 'alpha', state: 'blocked' } });
    expect(h.env('beta').blocked).toEqual([expect.stringMatching(/^image app:2 of service web has no passing marker in alpha/)]);
    expect(h.runtime.names()).toEqual(['alpha-web app:1 running']);
    const blocks = h.env('beta').decisions.filter((d) => d.kind === 'block').length;
    await h.poll();
    expect(h.env('beta').decisions.filter((d) => d.kind === 'block').length).toBe(blocks);
    h.git.land(envFiles('alpha', 'app:2'), 'alpha: app:2');
    await h.poll();
    await h.poll();
    expect(h.env('beta')).toMatchObject({ state: 'synced', gate: { from: 'alpha', state: 'open' }, blocked: [] });
    expect(h.runtime.names()).toEqual(['alpha-web app:2 running', 'beta-web app:2 running']);
  });

  it('after a passing marker, proposes the verified images to the environment that promotes from it', async () => {
    const files = { ...envFiles('alpha', 'app:1'), ...envFiles('beta', 'app:1', 'promotion:\n  from: alpha\n  auto: branch\n') };
    const h = await started(files);
    h.git.land(envFiles('alpha', 'app:3'), 'alpha: app:3');
    await h.poll();
    const proposal = h.git.head('stagecoach/promote/beta');
    expect(proposal).toBeDefined();
    expect(h.git.filesAt(proposal)['environments/beta/web.yaml']).toContain('image: app:3');
    expect(h.env('beta').proposals).toEqual([expect.objectContaining({ branch: 'stagecoach/promote/beta', images: ['web=app:3'] })]);
    expect(h.env('beta').decisions[0]).toMatchObject({ kind: 'promote' });
  });
});

describe('the status store', () => {
  it('hands out frozen snapshots; listeners hear decisions as events', async () => {
    const h = await harness(envFiles('alpha', 'app:1'), { start: false });
    stopWith(() => h.daemon.stop());
    const events: string[] = [];
    h.daemon.store.subscribe((e) => events.push(`${e.environment} ${e.kind}`));
    const before = h.daemon.snapshot();
    h.daemon.start();
    await h.settle();
    expect(Object.isFrozen(before)).toBe(true);
    expect(before.environments).toEqual([]);
    expect(Object.isFrozen(h.daemon.snapshot().environments[0]!.decisions)).toBe(true);
    expect(events).toEqual(['alpha deploy', 'alpha verification-passed']);
  });
});
