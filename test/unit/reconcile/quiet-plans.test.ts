import { describe, expect, it } from 'vitest';
import type { LoadedEnvironment } from '../../../src/manifest/types.js';
import { QuietPlans, actualFingerprint } from '../../../src/reconcile/quiet-plans.js';
import type { ActualState, ObservedContainer } from '../../../src/reconcile/types.js';

const container: ObservedContainer = {
  id: 'c1',
  name: 'alpha-web',
  service: 'web',
  replica: 1,
  slot: 'current',
  specHash: 'sha256:aa',
  spec: undefined,
  revision: 'r1',
  image: 'app:1',
  imageId: 'sha256:11',
  state: 'running',
  health: 'healthy',
  exitCode: null,
  details: { restartCount: 0, exitCode: 0, restartPolicy: 'unless-stopped', memoryBytes: null, nanoCpus: null, pidsLimit: null },
  edgeColor: 'blue',
};
const actual: ActualState = { environment: 'alpha', containers: [container], images: { 'app:1': 'sha256:11' }, edges: [{ id: 'e1', name: 'alpha-web-edge', service: 'web', hash: 'h1', state: 'running' }], engine: { apiVersion: '1.41' } };

/** A different value of the same type for every field plan() reads (spec is read only through specHash, which covers it). */
const other: { [K in keyof ObservedContainer]?: ObservedContainer[K] } = {
  id: 'c2', name: 'alpha-web.next', service: 'api', replica: 2, slot: 'candidate', specHash: 'sha256:bb', revision: 'r2', image: 'app:2', imageId: 'sha256:22',
  state: 'exited', health: 'unhealthy', exitCode: 1, details: undefined, edgeColor: 'green',
};
const otherDetails = { restartCount: 3, exitCode: 137, restartPolicy: 'no', memoryBytes: 1 << 20, nanoCpus: 5e8, pidsLimit: 64 };

describe('actualFingerprint changes with everything plan() reads', () => {
  const base = actualFingerprint(actual);
  const fields = Object.keys(container).filter((k) => k !== 'spec') as (keyof ObservedContainer)[];
  it('covers every field of an observed container but the parsed spec', () => {
    expect(fields.sort()).toEqual(Object.keys(other).sort());
  });
  for (const field of fields) {
    it(`container ${field}`, () => {
      expect(actualFingerprint({ ...actual, containers: [{ ...container, [field]: other[field] }] })).not.toBe(base);
    });
  }
  for (const [field, value] of Object.entries(otherDetails)) {
    it(`details.${field}`, () => {
      expect(actualFingerprint({ ...actual, containers: [{ ...container, details: { ...container.details!, [field]: value } }] })).not.toBe(base);
    });
  }
  it.each([
    ['a second container', { containers: [container, { ...container, id: 'c2', replica: 2 }] }],
    ['no container', { containers: [] }],
    ['a moved image tag', { images: { 'app:1': 'sha256:99' } }],
    ['an image gone', { images: { 'app:1': undefined } }],
    ['an edge proxy stopped', { edges: [{ ...actual.edges![0]!, state: 'exited' as const }] }],
    ['an edge proxy with another config', { edges: [{ ...actual.edges![0]!, hash: 'h2' }] }],
    ['no edge proxy', { edges: [] }],
    ['another engine API version', { engine: { apiVersion: '1.44' } }],
  ])('%s', (_name, change) => {
    expect(actualFingerprint({ ...actual, ...change })).not.toBe(base);
  });
  it('is the same for the same observation', () => {
    expect(actualFingerprint(structuredClone(actual))).toBe(base);
  });
});

describe('QuietPlans', () => {
  const env = { name: 'alpha' } as LoadedEnvironment;
  it('is unchanged only for the same environment object, revision and fingerprint after a quiet plan', () => {
    const q = new QuietPlans();
    expect(q.unchanged(env, 'r1', 'f')).toBe(false);
    q.record(env, 'r1', 'f', true);
    expect(q.unchanged(env, 'r1', 'f')).toBe(true);
    expect(q.unchanged(env, 'r2', 'f')).toBe(false);
    expect(q.unchanged(env, 'r1', 'g')).toBe(false);
    expect(q.unchanged({ ...env }, 'r1', 'f')).toBe(false);
    q.record(env, 'r1', 'f', false);
    expect(q.unchanged(env, 'r1', 'f')).toBe(false);
  });
});
