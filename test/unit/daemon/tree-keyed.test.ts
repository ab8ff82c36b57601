import { describe, expect, it } from 'vitest';
import { envFiles, harnessPerTest, twoEnvironments } from './support.js';

const { started } = harnessPerTest();

const two = twoEnvironments;

describe('desired state keyed by each environment’s tree', () => {
  it('deploys every environment at start, marks each, and is ready', async () => {
    const h = await started(two);
    expect(h.daemon.snapshot().ready).toBe(true);
    for (const name of ['alpha', 'beta']) {
      expect(h.env(name)).toMatchObject({ state: 'synced', services: [{ name: 'web', image: 'app:1', state: 'running' }], lastMarker: { result: 'passed', tests: 'passed 0/0 tests' } });
    }
    expect(h.runtime.names()).toEqual(['alpha-web app:1 running', 'beta-web app:1 running']);
    expect(h.git.subjects().filter((s) => / tests at /.test(s)).sort()).toEqual([expect.stringMatching(/^alpha: passed 0\/0 tests at /), expect.stringMatching(/^beta: passed 0\/0 tests at /)]);
  });

  it('its own marker commits cause no reload, no observe and no apply', async () => {
    const h = await started(two);
    const initial = h.env('alpha').revision.applied!;
    expect(h.git.commits.get(initial)!.message).toBe('Initial config');
    // The markers moved the remote head; the daemon looks at it, once and again.
    await h.poll();
    await h.poll();
    const before = await h.counts();
    const writes = h.runtime.writes.length;
    const head = h.git.head();
    await h.poll();
    await h.poll();
    expect(await h.counts()).toEqual(before);
    expect(h.runtime.writes.length).toBe(writes);
    // The remote moved to the markers; each environment stays at the commit that last changed its folder.
    expect(h.daemon.snapshot().remote.head).toBe(head);
    expect(h.env('alpha').revision).toEqual({ desired: initial, applied: initial, lastGood: initial });
    expect(h.env('alpha').decisions.map((d) => d.kind)).toEqual(['verify', 'deploy']);
  });

  it('a commit changing one of two environments loads, observes and applies only that one', async () => {
    const h = await started(two);
    await h.poll();
    const alpha = await h.counts('alpha');
    const beta = await h.counts('beta');
    const pushed = h.git.land(envFiles('alpha', 'app:2'), 'alpha: app:2');
    await h.poll();
    expect(h.env('alpha').services[0]!.image).toBe('app:2');
    expect(h.env('alpha').decisions.some((d) => d.kind === 'deploy' && d.revision === pushed)).toBe(true);
    const after = await h.counts('alpha');
    expect(after.loads).toBe(alpha.loads + 1);
    expect(after.applies).toBe(alpha.applies + 1);
    expect(await h.counts('beta')).toEqual(beta);
    expect(h.env('alpha').revision.applied).toBe(pushed);
    expect(h.env('beta').revision.applied).not.toBe(pushed);
  });

  it('keeps the last good revision of an invalid one, says where, and deploys the fix', async () => {
    const h = await started(two);
    const good = h.env('alpha').revision.applied;
    const bad = h.git.land({ 'environments/alpha/web.yaml': envFiles('alpha', 'app:2')['environments/alpha/web.yaml'] + 'deploy:\n  replicas: -1\n' }, 'alpha: broken');
    await h.poll();
    const st = h.env('alpha');
    expect(st).toMatchObject({ state: 'invalid', revision: { desired: bad, applied: good, lastGood: good } });
    expect(st.errors).toEqual(['environments/alpha/web.yaml:6:13: /deploy/replicas must be >= 0 (got -1)']);
    expect(st.decisions[0]).toMatchObject({ kind: 'invalid', revision: bad });
    expect(h.runtime.names()).toContain('alpha-web app:1 running');
    const fixed = h.git.land(envFiles('alpha', 'app:2'), 'alpha: fixed');
    await h.poll();
    expect(h.env('alpha')).toMatchObject({ state: 'synced', revision: { desired: fixed, applied: fixed, lastGood: fixed } });
    expect(h.env('alpha').decisions.some((d) => d.kind === 'deploy' && d.revision === fixed)).toBe(true);
    expect(h.runtime.names()).toContain('alpha-web app:2 running');
  });

  it('--env: manages only the named environments, and says when one does not exist', async () => {
    const h = await started(two, { only: ['beta', 'gamma'] });
    expect(h.daemon.snapshot().environments.map((e) => e.name)).toEqual(['beta', 'gamma']);
    expect(h.env('gamma')).toMatchObject({ state: 'invalid', errors: ['environments/gamma: does not exist (environments here: alpha, beta)'] });
    expect(h.runtime.names()).toEqual(['beta-web app:1 running']);
  });
});
