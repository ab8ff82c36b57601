import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/settings.js';
import { validators } from '../manifest/support.js';

const dir = () => mkdtemp(path.join(tmpdir(), 'stagecoach-policy-settings-'));

describe('operator policy and trust settings', () => {
  it('reads the policy from the settings file, filling every field from the defaults', async () => {
    const d = await dir();
    await writeFile(path.join(d, 'settings.yaml'), 'policy:\n  defaults:\n    secrets: ["shop-*"]\n  environments:\n    - match: "prod*"\n      dockerTargets: ["tcp://10.0.0.5:2376"]\n      hostOptions: true\n');
    const { policy } = loadSettings({ config: 'settings.yaml' }, {}, d, validators);
    expect(policy).toEqual({
      source: 'settings file',
      defaults: { dockerTargets: ['default', 'unix:///var/run/docker.sock'], bindMounts: [], hostOptions: false, secrets: ['shop-*'], httpTargets: [] },
      environments: [{ match: 'prod*', dockerTargets: ['tcp://10.0.0.5:2376'], bindMounts: [], hostOptions: true, secrets: ['shop-*'], httpTargets: [] }],
    });
  });

  it('a policy file from --policy (or STAGECOACH_POLICY) replaces it; its errors are located in that file', async () => {
    const d = await dir();
    await writeFile(path.join(d, 'policy.yaml'), 'defaults:\n  bindMounts: [srv]\n  hostOption: true\nenvironments:\n  - dockerTargets: [default]\n');
    expect(() => loadSettings({ policy: 'policy.yaml' }, {}, d, validators)).toThrow(
      [
        'invalid settings:',
        'policy.yaml:2:16: /defaults/bindMounts/0 must be an absolute host path (got "srv")',
        'policy.yaml:3:3: /defaults/hostOption is not a known field (did you mean "hostOptions"?)',
        'policy.yaml:5:5: /environments/0/match is required',
      ].join('\n'),
    );
    await writeFile(path.join(d, 'policy.yaml'), 'defaults:\n  httpTargets: ["api.example.com:443"]\n');
    expect(loadSettings({}, { STAGECOACH_POLICY: 'policy.yaml' }, d, validators).policy.defaults.httpTargets).toEqual(['api.example.com:443']);
  });

  it('signing and trust from the file or STAGECOACH_* variables; files must be readable; a signed head needs keys', async () => {
    const d = await dir();
    await writeFile(path.join(d, 'key'), 'k');
    await writeFile(path.join(d, 'allowed'), 'a');
    await writeFile(path.join(d, 'settings.yaml'), 'signing: { key: key }\ntrust: { allowedSigners: allowed, requireSignedHead: true }\n');
    expect(loadSettings({ config: 'settings.yaml' }, {}, d, validators).trust).toEqual({ signingKey: path.join(d, 'key'), allowedSigners: path.join(d, 'allowed'), openpgpKeyring: undefined, requireSignedHead: true });
    expect(() => loadSettings({}, { STAGECOACH_REQUIRE_SIGNED_HEAD: 'true', STAGECOACH_SIGNING_KEY: '/nonexistent/key' }, d, validators)).toThrow(
      ['invalid settings:', 'signing.key: cannot read /nonexistent/key: ENOENT', 'trust.requireSignedHead: needs trust.allowedSigners or trust.openpgpKeyring: the keys a head commit may be signed with'].join('\n'),
    );
  });
});
