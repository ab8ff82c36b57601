import { describe, expect, it } from 'vitest';
import { toOperatorPolicy } from '../../../src/config/policy.js';
import type { SignatureVerdict } from '../../../src/promotion/signing.js';
import { envFiles, harnessPerTest } from './support.js';

const { started } = harnessPerTest();

describe('the trust boundary in the tree-keyed daemon', () => {
  it('an environment the operator policy refuses is invalid before the gate or the engine is reached; others deploy', async () => {
    const policy = toOperatorPolicy({ environments: [{ match: 'alpha', dockerTargets: ['tcp://10.0.0.*:2376'] }] }, 'test');
    const h = await started({ ...envFiles('alpha', 'app:1'), ...envFiles('beta', 'app:1') }, { policy });
    expect(h.env('alpha').state).toBe('invalid');
    expect(h.env('alpha').errors).toEqual([expect.stringContaining('Docker endpoint default is not allowed for environment alpha by the operator')]);
    expect(h.env('beta').state).toBe('synced');
    expect(h.runtime.names()).toEqual(['beta-web app:1 running']);
  });

  it('with trust.requireSignedHead an unsigned revision deploys nothing; the next signed one deploys, and the daemon\'s own marker on top changes nothing', async () => {
    const signed = new Set<string>();
    const trust = { headRefusal: async (head: string) => (signed.has(head) ? undefined : `head commit ${head.slice(0, 7)} is not signed`) };
    const h = await started(envFiles('alpha', 'app:1'), { trust });
    expect(h.env('alpha')).toMatchObject({ state: 'invalid', errors: [expect.stringMatching(/^head commit \w{7} is not signed$/)] });
    expect(h.runtime.names()).toEqual([]);
    signed.add(h.git.land({ 'environments/alpha/web.yaml': envFiles('alpha', 'app:2')['environments/alpha/web.yaml']! }, 'signed change'));
    await h.poll();
    expect(h.env('alpha').state).toBe('synced');
    expect(h.runtime.names()).toEqual(['alpha-web app:2 running']);
    // The marker the daemon pushed is the new (unsigned here) head: it changes no tree, so nothing is refused or redeployed.
    expect(signed.has(h.git.head())).toBe(false);
    await h.poll();
    expect(h.env('alpha').state).toBe('synced');
  });

  it('only markers the verifier trusts open a gate, and the block says which were ignored and why', async () => {
    const files = { ...envFiles('alpha', 'app:1'), ...envFiles('beta', 'app:1', 'promotion:\n  from: alpha\n') };
    const verifyMarkers = async (commits: readonly string[]) => new Map<string, SignatureVerdict>(commits.map((c) => [c, { trusted: false, why: 'not signed' }]));
    const h = await started(files, { trust: { verifyMarkers, headRefusal: async () => undefined } });
    expect(h.env('alpha').state).toBe('synced');
    expect(h.env('beta').state).toBe('blocked');
    expect(h.env('beta').blocked).toEqual([expect.stringMatching(/has no passing marker in alpha .*; ignored marker \w{7} \(not signed\)\)$/)]);
  });
});
