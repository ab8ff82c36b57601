import { describe, expect, it } from 'vitest';
import { judgeSignature } from '../../../src/promotion/signing.js';
import { gateReasons } from '../../../src/promotion/gate.js';
import { envYaml, loadOne, repoWith, serviceYaml } from '../manifest/support.js';

const ssh = 'SHA256:hSUGXUPF2j3JxwmCI+piIQh2sA9hqV3xfqKR4ZiBGzM';
const pgp = 'C52B6F7065301A844006565F7C214DF02904E755';
const both = { allowedSigners: '/etc/stagecoach/allowed_signers', openpgpKeyring: '/etc/stagecoach/gnupg' };

describe('which signatures the operator trusts', () => {
  it.each([
    ['G', ssh, 'daemon@stagecoach', both, { trusted: true, signer: 'daemon@stagecoach' }],
    ['U', ssh, '', both, { trusted: false, why: `signed by SSH key ${ssh}, which trust.allowedSigners does not list` }],
    ['U', pgp, 'Ops <ops@example.com>', both, { trusted: true, signer: 'Ops <ops@example.com>' }],
    ['U', pgp, 'Ops <ops@example.com>', { allowedSigners: both.allowedSigners }, { trusted: false, why: `signed by OpenPGP key ${pgp}, but no trust.openpgpKeyring is configured` }],
    ['E', '7C214DF02904E755', '', both, { trusted: false, why: 'signed by OpenPGP key 7C214DF02904E755, which is not in trust.openpgpKeyring' }],
    ['N', '', '', both, { trusted: false, why: 'not signed' }],
    ['B', ssh, '', both, { trusted: false, why: `bad signature by SSH key ${ssh} (the commit was changed after signing)` }],
    ['R', pgp, '', both, { trusted: false, why: `signed by OpenPGP key ${pgp}, which was revoked` }],
    ['Y', pgp, '', both, { trusted: false, why: `signed by OpenPGP key ${pgp}, which has expired` }],
  ] as const)('%s by %s', (status, fingerprint, signer, keys, verdict) => {
    expect(judgeSignature({ status, fingerprint, signer }, keys)).toEqual(verdict);
  });

  it('the gate says which markers it ignored and why', async () => {
    const env = await loadOne(repoWith({ 'environments/testing/environment.yaml': envYaml('testing', 'promotion:\n  from: upstream\n'), 'environments/testing/web.yaml': serviceYaml('web') }));
    const lookup = { passing: () => undefined, latest: () => undefined, ignored: () => [{ commit: 'abcdef0123', why: 'not signed' }] };
    expect(gateReasons(env, lookup, {})).toEqual(['image busybox:1.35 of service web has no passing marker in upstream (upstream has no markers yet; ignored marker abcdef0 (not signed))']);
  });
});
