import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/settings.js';
import { validators } from '../manifest/support.js';

async function withFile(text: string, files: Record<string, string> = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'stagecoach-notify-settings-'));
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
  await writeFile(path.join(dir, 'settings.yaml'), text);
  return dir;
}

const load = (dir: string, env: Record<string, string> = {}) => loadSettings({ config: 'settings.yaml' }, env, dir, validators);

describe('notification settings', () => {
  it('are absent unless configured', () => {
    expect(loadSettings({}, {}, '/work', validators).notifications).toBeUndefined();
  });

  it('resolve every sink type with defaults, secrets from files (next to the settings file) and variables', async () => {
    const dir = await withFile(
      [
        'notifications:',
        '  pageUrl: http://ci.example:7420/',
        '  retry: { attempts: 4, initialDelay: 200ms, maxDelay: 2s }',
        '  sinks:',
        '    - { name: ops, type: webhook, url: "https://hooks.example/in", secret: { file: hook.key }, events: [rollback, block] }',
        '    - { type: slack, url: { env: SLACK_URL }, environments: [live] }',
        '    - { type: github, repository: acme/config, token: { env: GH_TOKEN } }',
        '    - { type: gitea, url: "http://127.0.0.1:3000", repository: acme/config, token: { file: gitea.token } }',
        '    - { type: gitlab, repository: "42", token: { env: GL_TOKEN } }',
        '',
      ].join('\n'),
      { 'hook.key': 'k3y\n', 'gitea.token': 'gt\n' },
    );
    const n = load(dir, { SLACK_URL: 'https://hooks.slack.example/T/B/X', GH_TOKEN: 'ght', GL_TOKEN: 'glt' }).notifications!;
    expect(n.pageUrl).toBe('http://ci.example:7420/');
    expect(n.queueSize).toBe(1000);
    expect(n.retry).toEqual({ attempts: 4, initialDelayMs: 200, maxDelayMs: 2_000 });
    expect(n.sinks).toEqual([
      { name: 'ops', type: 'webhook', url: 'https://hooks.example/in', secret: 'k3y', events: ['rollback', 'block'], environments: undefined },
      expect.objectContaining({ name: 'slack-1', type: 'slack', url: 'https://hooks.slack.example/T/B/X', environments: ['live'] }),
      expect.objectContaining({ name: 'github-2', type: 'github', baseUrl: 'https://api.github.com', repository: 'acme/config', token: 'ght' }),
      expect.objectContaining({ name: 'gitea-3', type: 'gitea', baseUrl: 'http://127.0.0.1:3000', token: 'gt' }),
      expect.objectContaining({ name: 'gitlab-4', type: 'gitlab', baseUrl: 'https://gitlab.com/api/v4', repository: '42', token: 'glt' }),
    ]);
    expect(n.sinks[1]!.events).toHaveLength(6);
  });

  it('names every bad value with file, line and path, and never prints a secret', async () => {
    const dir = await withFile(
      [
        'notifications:',
        '  retry: { initialDelay: 10s, maxDelay: 1s }',
        '  sinks:',
        '    - { type: webhook, url: "https://hooks.example/in" }',
        '    - { type: slack, url: { env: SLACK_URL }, token: { env: X } }',
        '    - { type: slack, url: { env: SLACK_URL } }',
        '    - { type: github, repository: a/b, token: { env: MISSING } }',
        '    - { type: gitea, repository: a/b, token: { file: nope.token } }',
        '    - { name: x, type: webhook, url: "ftp://files.example/", secret: { env: K } }',
        '    - { name: x, type: teams, url: "https://x" }',
        '    - { type: slack, url: "https://x", events: [deploy, launch] }',
        '',
      ].join('\n'),
    );
    let message = '';
    try {
      load(dir, { SLACK_URL: 'not a url with s3cret', K: 'k' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'invalid settings:',
      'settings.yaml:10:24: /notifications/sinks/6/type must be one of webhook, slack, github, gitea, gitlab (got "teams")',
      'settings.yaml:11:57: /notifications/sinks/7/events/1 must be one of deploy, rollback, verification.passed, verification.failed, block, proposal (got "launch")',
    ]);
    const fixed = await withFile(
      [
        'notifications:',
        '  retry: { initialDelay: 10s, maxDelay: 1s }',
        '  sinks:',
        '    - { type: webhook, url: "https://hooks.example/in" }',
        '    - { type: slack, url: { env: SLACK_URL }, token: { env: X } }',
        '    - { type: slack, url: { env: SLACK_URL } }',
        '    - { type: github, repository: a/b, token: { env: MISSING } }',
        '    - { type: gitea, repository: a/b, token: { file: nope.token } }',
        '    - { name: x, type: webhook, url: "ftp://files.example/", secret: { env: K } }',
        '    - { name: x, type: slack, url: "https://x" }',
        '',
      ].join('\n'),
    );
    try {
      load(fixed, { SLACK_URL: 'not a url with s3cret', K: 'k' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'invalid settings:',
      'settings.yaml:4:7: /notifications/sinks/0/secret is required for a webhook sink',
      'settings.yaml:5:47: /notifications/sinks/1/token is not used by a slack sink',
      'settings.yaml:6:27: /notifications/sinks/2/url must be an http:// or https:// URL (the value read from the secret is not shown)',
      'settings.yaml:7:47: /notifications/sinks/3/token names the environment variable MISSING, which is not set',
      'settings.yaml:8:7: /notifications/sinks/4/url is required for a gitea sink',
      'settings.yaml:9:38: /notifications/sinks/5/url must be an http:// or https:// URL (got "ftp://files.example/")',
      'settings.yaml:10:15: /notifications/sinks/6/name "x" is the name of an earlier sink; names must be unique',
      'settings.yaml:2:41: /notifications/retry/maxDelay must not be shorter than initialDelay (got 1s < 10s)',
    ]);
    expect(message).not.toContain('s3cret');
  });

  it('refuses a literal secret', async () => {
    const dir = await withFile('notifications:\n  sinks:\n    - { type: webhook, url: "https://h.example/", secret: hunter2 }\n');
    expect(() => load(dir)).toThrow(/settings\.yaml:3:\d+: \/notifications\/sinks\/0\/secret must be a mapping \(got "hunter2"\)/);
  });
});
