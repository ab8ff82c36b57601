import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/settings.js';
import { defaultPolicy } from '../../../src/policy/types.js';
import { validators } from '../manifest/support.js';

describe('settings', () => {
  it('has documented defaults', () => {
    expect(loadSettings({}, {}, '/work', validators)).toEqual({
      repo: undefined,
      branch: 'main',
      environments: undefined,
      intervalMs: 30_000,
      resyncMs: 300_000,
      listen: { host: '127.0.0.1', port: 7420 },
      dataDir: '/work/.stagecoach',
      logLevel: 'info',
      webhookSecret: undefined,
      apiToken: undefined,
      secretsDir: undefined,
      registryIntervalsMs: {},
      policy: defaultPolicy,
      trust: { signingKey: undefined, allowedSigners: undefined, openpgpKeyring: undefined, requireSignedHead: false },
    });
  });

  it('merges file, then environment, then flags (flags win)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stagecoach-settings-'));
    await writeFile(path.join(dir, 'hook'), 'from-file\n');
    await writeFile(path.join(dir, 'settings.yaml'), `apiVersion: stagecoach/v1\nkind: Settings\nrepo: https://git.example.com/ops/config.git\nbranch: release\ninterval: 2m\nenvironments: [staging]\nwebhookSecret: { file: ${dir}/hook }\n`);
    const settings = loadSettings({ config: 'settings.yaml', interval: '10s', resync: '0s' }, { STAGECOACH_BRANCH: 'prod', STAGECOACH_INTERVAL: '1m', STAGECOACH_API_TOKEN: 't' }, dir, validators);
    expect(settings).toMatchObject({ repo: 'https://git.example.com/ops/config.git', branch: 'prod', intervalMs: 10_000, resyncMs: 0, environments: ['staging'], webhookSecret: 'from-file', apiToken: 't' });
  });

  it('resolves a local repo path and reads secrets from *_FILE', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stagecoach-settings-'));
    await writeFile(path.join(dir, 'secret'), 's3cret\n');
    expect(loadSettings({ repo: '../config' }, { STAGECOACH_WEBHOOK_SECRET_FILE: path.join(dir, 'secret') }, '/work/app', validators)).toMatchObject({ repo: '/work/config', webhookSecret: 's3cret' });
  });

  it('names every bad value with its source', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stagecoach-settings-'));
    await writeFile(path.join(dir, 'settings.yaml'), 'listen: nowhere\nlogLevel: loud\ncolour: blue\n');
    expect(() => loadSettings({ config: 'settings.yaml', interval: 'often' }, { STAGECOACH_ENV: 'Bad Name', STAGECOACH_RESYNC: 'hourly' }, dir, validators)).toThrow(
      [
        'invalid settings:',
        'settings.yaml:1:9: /listen must be HOST:PORT (got "nowhere")',
        'settings.yaml:2:11: /logLevel must be one of trace, debug, info, warn, error, fatal, silent (got "loud")',
        'settings.yaml:3:1: /colour is not a known field (allowed: apiVersion, kind, repo, branch, environments, interval, resync, listen, dataDir, logLevel, webhookSecret, apiToken, notifications, registries, policy, signing, trust)',
        'environment: STAGECOACH_ENV must be an environment name (got ["Bad Name"])',
        'environment: STAGECOACH_RESYNC must be a duration like 5m or 0s (got "hourly")',
        'command line: --interval must be a duration like 30s or 2m (got "often")',
      ].join('\n'),
    );
  });

  it('refuses a literal secret in the settings file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stagecoach-settings-'));
    await writeFile(path.join(dir, 'settings.yaml'), 'webhookSecret: hunter2\n');
    expect(() => loadSettings({ config: 'settings.yaml' }, {}, dir, validators)).toThrow('settings.yaml:1:16: /webhookSecret must be a mapping (got "hunter2")');
  });
});
