import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { judgeWebhook, pushFilter, verifySignature } from '../../../src/source/webhooks.js';
import { DeliveryLog, deliveryId, singleFlight } from '../../../src/source/deliveries.js';
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

  it.each([
    ['https://git.example.com/x.git?private_token=glpat-abc123', 'https://git.example.com/x.git?private_token=***'],
    ['https://u:p@h/x.git?a=1&token=t#frag', 'https://***@h/x.git?a=***&token=***#frag'],
  ])('hides tokens in the query string of %s (finding 13)', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
    expect(redactText(`fatal: unable to access '${url}': 403`)).toBe(`fatal: unable to access '${redacted}': 403`);
  });

  it('redacts URLs inside git error text', () => {
    expect(redactText("fatal: unable to access 'https://u:tok@h/x.git/': Could not resolve host: h")).toBe("fatal: unable to access 'https://***@h/x.git/': Could not resolve host: h");
  });
});

describe('only a push to the followed branch triggers (finding 12)', () => {
  const json = (o: unknown) => Buffer.from(JSON.stringify(o));
  it.each([
    ['github', { 'x-github-event': 'ping' }, { zen: 'hi', hook_id: 1 }, 'ping event, not a push'],
    ['github', { 'x-github-event': 'push' }, { ref: 'refs/tags/v1.0' }, 'push of tag refs/tags/v1.0, not a branch'],
    ['github', { 'x-github-event': 'push' }, { ref: 'refs/heads/main', deleted: true, after: '0000000000000000000000000000000000000000' }, 'deletion of refs/heads/main'],
    ['github', { 'x-github-event': 'create' }, { ref: 'v2', ref_type: 'tag' }, 'create event, not a push'],
    ['gitlab', { 'x-gitlab-event': 'Tag Push Hook' }, { ref: 'refs/tags/v1.0' }, 'tag_push event, not a push'],
    ['gitlab', { 'x-gitlab-event': 'Push Hook' }, { ref: 'refs/heads/main', after: '0000000000000000000000000000000000000000' }, 'deletion of refs/heads/main'],
    ['gitea', { 'x-gitea-event': 'push' }, { ref: 'refs/tags/v1.0' }, 'push of tag refs/tags/v1.0, not a branch'],
    ['generic', {}, { ref: 'refs/heads/dev' }, 'push to branch dev, following main'],
  ] as const)('%s %j is ignored', (provider, headers, payload, reason) => {
    expect(pushFilter(provider, headers, json(payload), 'main')).toEqual({ trigger: false, reason });
  });

  it.each([
    ['github', { 'x-github-event': 'push' }, json({ ref: 'refs/heads/main', after: 'abc' }), 'main'],
    ['gitlab', { 'x-gitlab-event': 'Push Hook' }, json({ ref: 'refs/heads/main' }), 'main'],
    ['generic', {}, Buffer.from('anything moved'), undefined],
  ] as const)('%s push to the followed branch triggers', (provider, headers, body, branch) => {
    expect(pushFilter(provider, headers, body, 'main')).toEqual({ trigger: true, branch });
  });
});

describe('replayed deliveries trigger nothing (finding 10)', () => {
  it('remembers delivery ids within the window, bounded in size', () => {
    let now = 0;
    const log = new DeliveryLog(() => now, 60_000, 3);
    const id = deliveryId('github', { 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' })!;
    expect(id).toBe('github:72d3162e-cc78-11e3-81ab-4c9367dc0958');
    expect(Array.from({ length: 300 }, () => log.firstSeen(id)).filter(Boolean)).toHaveLength(1);
    now = 60_000;
    expect(log.firstSeen(id)).toBe(true);
    for (const other of ['a', 'b', 'c', 'd']) expect(log.firstSeen(other)).toBe(true);
    expect(log.firstSeen(id)).toBe(true); // pushed out by newer ids: the log never holds more than 3
    expect(deliveryId('gitlab', { 'x-gitlab-event-uuid': 'u-1' })).toBe('gitlab:u-1');
    expect(deliveryId('gitea', {})).toBeUndefined();
  });

  it('runs one remote check at a time, however many ask', async () => {
    let calls = 0;
    let release!: () => void;
    const check = singleFlight(() => {
      calls++;
      return new Promise<string>((resolve) => {
        release = () => resolve('abc');
      });
    });
    const answers = Array.from({ length: 300 }, () => check());
    release();
    expect(new Set(await Promise.all(answers))).toEqual(new Set(['abc']));
    expect(calls).toBe(1);
    const next = check();
    release();
    await next;
    expect(calls).toBe(2);
  });
});
