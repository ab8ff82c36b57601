import { describe, expect, it } from 'vitest';
import { notificationFromDecision } from '../../../src/notify/from-store.js';
import type { StoreDecisionEvent } from '../../../src/notify/from-store.js';

const rev = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b';
const at = '2026-11-29T16:00:00.000Z';
const status = (over: Partial<StoreDecisionEvent['status']> = {}): StoreDecisionEvent['status'] => ({
  services: [
    { name: 'web', image: 'shop/web:1', desiredImage: 'shop/web:2' },
    { name: 'worker', image: 'shop/worker:1', desiredImage: 'shop/worker:1' },
  ],
  blocked: [],
  gate: { from: 'dev' },
  lastMarker: null,
  proposals: [],
  ...over,
});
const ev = (decision: Partial<StoreDecisionEvent['decision']>, st = status()): StoreDecisionEvent => ({ kind: decision.kind ?? 'deploy', environment: 'qa', decision: { at, kind: 'deploy', revision: rev, reason: 'why', ...decision }, status: st });

describe('notifications from stored decisions', () => {
  it.each([
    ['heal'],
    ['skip'],
    ['invalid'],
    ['error'],
    ['remove'],
    ['recover'],
  ])('%s: nobody is told', (kind) => {
    expect(notificationFromDecision(ev({ kind }))).toBeNull();
  });

  it('deploy and rollback: one per service, with the decision as the reason', () => {
    expect(notificationFromDecision(ev({ kind: 'deploy', service: 'web', reason: 'replace web: image changed' }))).toEqual({
      kind: 'deploy', environment: 'qa', revision: rev, at, summary: 'qa: deploying web at 1a2b3c4', services: [{ name: 'web', image: 'shop/web:2' }], reasons: ['replace web: image changed'],
    });
    expect(notificationFromDecision(ev({ kind: 'rollback', service: 'web', reason: 'replace web rolled-back: unhealthy' }))).toMatchObject({ kind: 'rollback', summary: 'qa: rolled back web at 1a2b3c4', reasons: ['replace web rolled-back: unhealthy'] });
  });

  it('verify: passed or failed from the decision, tests and images from the marker', () => {
    const marker = { result: 'failed', commit: 'c0ffee', tests: 'failed 1/2 tests', images: [{ service: 'web', image: 'shop/web:2' }], results: [{ name: 'a', result: 'failed', message: 'expected 200, got 503' }, { name: 'b', result: 'passed', message: 'ok' }] };
    expect(notificationFromDecision(ev({ kind: 'verify', result: 'failed' }, status({ lastMarker: marker })))).toEqual({
      kind: 'verification.failed', environment: 'qa', revision: rev, at, summary: 'qa: failed 1/2 tests at 1a2b3c4', services: [{ name: 'web', image: 'shop/web:2' }], reasons: ['a: expected 200, got 503'], tests: marker.results, marker: { commit: 'c0ffee' },
    });
    expect(notificationFromDecision(ev({ kind: 'verify', result: 'passed' }, status({ lastMarker: { result: 'passed', commit: 'c1', tests: 'passed 2/2 tests' } })))).toMatchObject({ kind: 'verification.passed', reasons: [], marker: { commit: 'c1' } });
  });

  it('block: the gate and its reasons', () => {
    expect(notificationFromDecision(ev({ kind: 'block' }, status({ blocked: ['image shop/web:2 of service web has no passing marker in dev'] })))).toMatchObject({
      kind: 'block', summary: 'qa: revision 1a2b3c4 blocked by the gate from dev', reasons: ['image shop/web:2 of service web has no passing marker in dev'],
    });
  });

  it('promote: a proposal only when one was stored with the decision', () => {
    const proposals = [{ branch: 'stagecoach/promote/qa', commit: 'abc123', images: ['web=shop/web:2'], at }];
    expect(notificationFromDecision(ev({ kind: 'promote' }, status({ proposals })))).toMatchObject({ kind: 'proposal', services: [{ name: 'web', image: 'shop/web:2' }], proposal: { branch: 'stagecoach/promote/qa', commit: 'abc123', from: 'dev' } });
    expect(notificationFromDecision(ev({ kind: 'promote', reason: 'qa already runs or proposes what dev verified' }, status({ proposals: [{ ...proposals[0]!, at: '2026-11-29T15:00:00.000Z' }] })))).toBeNull();
  });
});
