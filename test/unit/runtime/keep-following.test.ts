import { describe, expect, it } from 'vitest';
import { keepFollowing } from '../../../src/runtime/event-stream.js';
import { FakeRuntime } from '../../support/fake-runtime.js';

const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

describe('keepFollowing', () => {
  it('follows again after each end (telling onEnd), delivers events, and stops for good at close()', async () => {
    const runtime = new FakeRuntime();
    const seen: string[] = [];
    const ends: string[] = [];
    const followed = keepFollowing(runtime, {}, (e) => seen.push(e.action), { actions: ['die'], retryMs: 0, onEnd: (error) => ends.push(error?.message ?? 'ended') });
    expect(runtime.watchers.size).toBe(1);
    runtime.endStreams(new Error('engine restarted'));
    expect(ends).toEqual(['engine restarted']);
    expect(runtime.watchers.size).toBe(0);
    await tick();
    expect(runtime.watchers.size).toBe(1); // followed again
    for (const watcher of runtime.watchers) watcher({ action: 'die', container: 'web', labels: {} });
    expect(seen).toEqual(['die']);
    followed.close();
    expect(runtime.watchers.size).toBe(0);
    runtime.endStreams();
    await tick();
    expect(runtime.watchers.size).toBe(0);
    expect(ends).toEqual(['engine restarted']);
  });

  it('close() during the wait before following again cancels it', async () => {
    const runtime = new FakeRuntime();
    const followed = keepFollowing(runtime, {}, () => undefined, { retryMs: 20 });
    runtime.endStreams();
    followed.close();
    await tick(40);
    expect(runtime.watchers.size).toBe(0);
  });
});
