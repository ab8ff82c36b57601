import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { judgeWebhook, verifySignature } from '../../../src/source/webhooks.js';
import { redactText, redactUrl } from '../../../src/source/redact.js';

const secret = "It's a Secret to Everybody";
const body = Buffer.from('Hello, World!');
const vector = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
const hex = (s: string, b: Buffer) => createHmac('sha256', s).update(b).digest('hex');

describe('webhook signatures', () => {
  it('accepts GitHub’s published test vector', () => {
    expect(verifySignature('github', { 'x-hub-signature-256': vector }, body, secret)).toBeUndefined();
  });

  it.each([
    ['github: a one-byte change of the body', 'github', { 'x-hub-signature-256': vector }, Buffer.from('Hello, World?'), 'X-Hub-Signature-256 does not match the body'],
    ['github: a one-byte change of the signature', 'github', { 'x-hub-signature-256': vector.replace(/e17$/, 'e18') }, body, 'X-Hub-Signature-256 does not match the body'],
    ['github: missing header', 'github', {}, body, 'missing X-Hub-Signature-256 header'],
    ['github: the bare hex without sha256=', 'github', { 'x-hub-signature-256': vector.slice(7) }, body, 'X-Hub-Signature-256 does not match the body'],
    ['gitea: wrong signature', 'gitea', { 'x-gitea-signature': '00' }, body, 'X-Gitea-Signature does not match the body'],
    ['generic: missing header', 'generic', {}, body, 'missing X-Signature header'],
    ['gitlab: wrong token', 'gitlab', { 'x-gitlab-token': 'guess' }, body, 'X-Gitlab-Token is wrong'],
  ] as const)('refuses %s', (_name, provider, headers, payload, reason) => {
    expect(verifySignature(provider, headers, payload, secret)).toBe(reason);
  });

  it.each([
    ['gitea', { 'x-gitea-signature': hex(secret, body) }],
    ['generic', { 'x-signature': `sha256=${hex(secret, body)}` }],
    ['gitlab', { 'x-gitlab-token': secret }],
  ] as const)('accepts a valid %s request', (provider, headers) => {
    expect(verifySignature(provider, headers, body, secret)).toBeUndefined();
  });

  it('ignores pushes to another branch, accepts the followed one, refuses all without a secret', () => {
    const push = (ref: string) => Buffer.from(JSON.stringify({ ref }));
    const sign = (b: Buffer) => ({ 'x-hub-signature-256': `sha256=${hex(secret, b)}` });
    expect(judgeWebhook('github', sign(push('refs/heads/dev')), push('refs/heads/dev'), secret, 'main')).toEqual({ outcome: 'ignored', reason: 'push to branch dev, following main' });
    expect(judgeWebhook('github', sign(push('refs/heads/main')), push('refs/heads/main'), secret, 'main')).toEqual({ outcome: 'accepted', branch: 'main', reason: 'push to main' });
    expect(judgeWebhook('github', { 'x-hub-signature-256': vector }, body, undefined, 'main')).toMatchObject({ outcome: 'rejected', status: 401 });
  });
});

describe('credential redaction', () => {
  it.each([
    ['https://user:ghp_secret@github.com/acme/config.git', 'https://***@github.com/acme/config.git'],
    ['https://oauth2:tok@gitlab.com/x.git', 'https://***@gitlab.com/x.git'],
    ['ssh://git@host/x.git', 'ssh://***@host/x.git'],
    ['/srv/config', '/srv/config'],
  ])('%s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });

  it('redacts URLs inside git error text', () => {
    expect(redactText("fatal: unable to access 'https://u:tok@h/x.git/': Could not resolve host: h")).toBe("fatal: unable to access 'https://***@h/x.git/': Could not resolve host: h");
  });
});
