import { describe, expect, it } from 'vitest';
import { StatusStore } from '../../../src/daemon/status-store.js';
import { maxDecisions } from '../../../src/daemon/status.js';
import type { Decision } from '../../../src/daemon/status.js';

const decision = (n: number): Decision => ({ at: `2026-11-29T00:00:${String(n % 60).padStart(2, '0')}Z`, kind: 'deploy', revision: 'abc', reason: `decision ${n}` });

function storeWith(names: string[]): StatusStore {
  const store = new StatusStore({ repo: '/srv/config.git', branch: 'main' });
  for (const name of names) store.patch(name, { state: 'synced', services: [{ name: 'web', image: 'app:1', desiredImage: 'app:1', state: 'running', health: 'none', lastAction: null }], decisions: [decision(0)] });
  return store;
}

describe('StatusStore', () => {
  it('hands out frozen snapshots that a later write leaves as they were', () => {
    const store = storeWith(['alpha']);
    const before = store.snapshot();
    store.setRemote({ head: 'f00', checkedAt: '2026-11-29T00:00:01Z' });
    store.patch('alpha', { state: 'degraded', errors: ['web: exited'] });
    expect(Object.isFrozen(before)).toBe(true);
    expect(Object.isFrozen(before.environments[0]!.services[0])).toBe(true);
    expect(before.remote.head).toBeNull();
    expect(before.environments[0]).toMatchObject({ state: 'synced', errors: [] });
    expect(store.snapshot().remote.head).toBe('f00');
    expect(store.snapshot().environments[0]).toMatchObject({ state: 'degraded', errors: ['web: exited'] });
    expect(() => (store.snapshot().environments as unknown as unknown[]).push({})).toThrow(TypeError);
  });

  it('shares what a write did not touch: a poll is a new top object, not a copy of every environment', () => {
    const store = storeWith(['alpha', 'beta']);
    const before = store.snapshot();
    store.setRemote({ head: 'f00', checkedAt: '2026-11-29T00:00:01Z' });
    const polled = store.snapshot();
    expect(polled).not.toBe(before);
    expect(polled.environments).toBe(before.environments);
    store.patch('beta', { state: 'progressing' });
    const patched = store.snapshot();
    expect(patched.environments.find((e) => e.name === 'alpha')).toBe(before.environments.find((e) => e.name === 'alpha'));
    expect(patched.environments.find((e) => e.name === 'beta')).not.toBe(before.environments.find((e) => e.name === 'beta'));
    expect(patched.environments.map((e) => e.name)).toEqual(['alpha', 'beta']);
  });

  it('keeps decisions newest first, at most maxDecisions, and tells listeners each one with the status after it', () => {
    const store = storeWith(['alpha']);
    const heard: string[] = [];
    store.subscribe((e) => heard.push(`${e.kind} ${e.decision.reason} ${e.status.decisions.length}`));
    store.patch('alpha', { decisions: Array.from({ length: maxDecisions + 5 }, (_, i) => decision(i + 1)) });
    const decisions = store.environment('alpha')!.decisions;
    expect(decisions).toHaveLength(maxDecisions);
    expect(decisions[0]!.reason).toBe(`decision ${maxDecisions + 5}`);
    expect(heard).toHaveLength(maxDecisions + 5);
    expect(heard[0]).toBe(`deploy decision 1 ${maxDecisions}`);
  });
});
