import { createHmac } from 'node:crypto';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { blockEvent, deployEvent, proposalEvent, rollbackEvent, verificationEvent } from '../../support/notification-events.js';
import { forgeStatusRequest } from '../../../src/notify/forge-status.js';
import { slackRequest, slackText } from '../../../src/notify/slack.js';
import { webhookRequest } from '../../../src/notify/webhook.js';
import { readSchema } from '../../../src/manifest/schemas.js';
import { ctx, event } from './support.js';

const sha = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b';
const at = '2026-11-29T16:00:00.000Z';
const validPayload = new Ajv({ strict: false, allErrors: true }).compile(readSchema('Notification'));

const everyKind = [
  deployEvent({ environment: 'qa', revision: sha, at, deployed: { web: 'busybox:1.35' } }),
  rollbackEvent({ environment: 'qa', revision: sha, at, wanted: { web: 'shop/web:2' }, reasons: ['web: not healthy within 30s; the old container serves'] }),
  verificationEvent({ environment: 'qa', revision: sha, at, images: { web: 'busybox:1.35' }, tests: [{ name: 'home', result: 'passed', message: '200' }], markerCommit: 'c0ffee0' }),
  verificationEvent({ environment: 'qa', revision: sha, at, images: { web: 'busybox:1.35' }, tests: [{ name: 'home', result: 'failed', message: 'expected 200, got 503' }, { name: 'x', result: 'passed', message: 'ok' }], markerCommit: 'c0ffee1' }),
  blockEvent({ environment: 'live', revision: sha, at, from: 'qa', images: { web: 'shop/web:3' }, reasons: ['web: shop/web:3 has no passing marker in qa'] }),
  proposalEvent({ environment: 'live', from: 'qa', revision: sha, at, outcome: 'proposed', ref: 'stagecoach/promote/live', commit: 'abcdef1', changed: [{ service: 'web', to: 'shop/web:2' }] }),
];

describe('events the daemon builds', () => {
  it('cover every kind with a readable summary', () => {
    expect(everyKind.map((e) => [e.kind, e.summary])).toEqual([
      ['deploy', 'qa: deployed web busybox:1.35 at 1a2b3c4'],
      ['rollback', 'qa: rolled back 1 service (web) at 1a2b3c4'],
      ['verification.passed', 'qa: passed 1/1 tests at 1a2b3c4'],
      ['verification.failed', 'qa: failed 1/2 tests at 1a2b3c4'],
      ['block', 'live: revision 1a2b3c4 blocked by the gate from qa (1 unverified image)'],
      ['proposal', 'live: proposed web shop/web:2 on stagecoach/promote/live (verified in qa)'],
    ]);
    expect(everyKind[3]!.reasons).toEqual(['home: expected 200, got 503']);
  });
});

describe('the generic webhook', () => {
  it.each(everyKind.map((e) => [e.kind, e] as const))('%s: a body that matches schemas/notification.schema.json, signed with HMAC-SHA256', (_kind, e) => {
    const req = webhookRequest('https://hooks.example/in', 'k3y', e, ctx, 'd-1');
    const body = JSON.parse(req.body) as Record<string, unknown>;
    expect(validPayload(body), JSON.stringify(validPayload.errors)).toBe(true);
    expect(body).toMatchObject({ apiVersion: 'stagecoach/v1', kind: 'Notification', id: 'd-1', event: e.kind, repo: ctx.repo, branch: 'main', pageUrl: ctx.pageUrl });
    expect(req.headers).toMatchObject({ 'content-type': 'application/json', 'X-Stagecoach-Event': e.kind, 'X-Stagecoach-Delivery': 'd-1' });
    expect(req.headers['X-Stagecoach-Signature']).toBe(`sha256=${createHmac('sha256', 'k3y').update(req.body).digest('hex')}`);
    expect(req.body).not.toContain('k3y');
  });

  it('the bundled example payload is valid too', () => {
    for (const example of readSchema('Notification').examples as unknown[]) expect(validPayload(example)).toBe(true);
  });
});

describe('the Slack-compatible message', () => {
  it('is the summary, the reasons and a link to the page', () => {
    expect(slackText(everyKind[3]!, ctx)).toBe(
      [':x: *qa: failed 1/2 tests at 1a2b3c4*', '• home: expected 200, got 503', 'git://git.example.com/ops/config.git @ main · <http://stagecoach.example.com:7420/|pipeline>'].join('\n'),
    );
  });

  it('escapes what came from the repo so it cannot mention or link', () => {
    const text = slackText(event({ summary: 'qa: <!channel> & <https://evil|click>', reasons: ['<@U123>'] }), { ...ctx, pageUrl: undefined });
    expect(text).toContain('&lt;!channel&gt; &amp; &lt;https://evil|click&gt;');
    expect(text).toContain('&lt;@U123&gt;');
    expect(JSON.parse(slackRequest('https://hooks.slack.example/T/B/X', event(), ctx).body)).toEqual({ text: slackText(event(), ctx) });
  });

  it('lists at most five reasons', () => {
    const text = slackText(event({ reasons: ['1', '2', '3', '4', '5', '6', '7'] }), ctx);
    expect(text).toContain('• 5\n• … and 2 more');
  });
});

describe('forge commit statuses on the verified commit', () => {
  const passed = everyKind[2]!;
  it.each([
    ['github', 'https://api.github.com', 'acme/config', `https://api.github.com/repos/acme/config/statuses/${sha}`, { authorization: 'Bearer t0k' }, { state: 'success', context: 'stagecoach/qa', description: 'qa: passed 1/1 tests at 1a2b3c4', target_url: ctx.pageUrl }],
    ['gitea', 'http://127.0.0.1:3000/', 'acme/config', `http://127.0.0.1:3000/api/v1/repos/acme/config/statuses/${sha}`, { authorization: 'token t0k' }, { state: 'success', context: 'stagecoach/qa', description: 'qa: passed 1/1 tests at 1a2b3c4', target_url: ctx.pageUrl }],
    ['gitlab', 'https://gitlab.com/api/v4', 'acme/config', `https://gitlab.com/api/v4/projects/acme%2Fconfig/statuses/${sha}`, { 'private-token': 't0k' }, { state: 'success', name: 'stagecoach/qa', description: 'qa: passed 1/1 tests at 1a2b3c4', target_url: ctx.pageUrl }],
  ] as const)('%s', (forge, baseUrl, repository, url, headers, body) => {
    const req = forgeStatusRequest({ forge, baseUrl, repository, token: 't0k' }, passed, ctx)!;
    expect(req.url).toBe(url);
    expect(req.headers).toMatchObject(headers);
    expect(JSON.parse(req.body)).toEqual(body);
  });

  it.each([
    ['deploy', 'pending', 'running'],
    ['rollback', 'error', 'failed'],
    ['verification.passed', 'success', 'success'],
    ['verification.failed', 'failure', 'failed'],
    ['block', null, null],
    ['proposal', null, null],
  ] as const)('%s → GitHub/Gitea %s, GitLab %s', (kind, state, gitlab) => {
    const e = everyKind.find((x) => x.kind === kind)!;
    const gh = forgeStatusRequest({ forge: 'github', baseUrl: 'https://api.github.com', repository: 'a/b', token: 't' }, e, ctx);
    const gl = forgeStatusRequest({ forge: 'gitlab', baseUrl: 'https://gitlab.com/api/v4', repository: '42', token: 't' }, e, ctx);
    expect(gh && JSON.parse(gh.body).state).toBe(state);
    expect(gl && JSON.parse(gl.body).state).toBe(gitlab);
  });

  it('caps the description at 140 characters and never sends a status for something that is not a commit', () => {
    const long = event({ summary: 'x'.repeat(300) });
    const req = forgeStatusRequest({ forge: 'github', baseUrl: 'https://api.github.com', repository: 'a/b', token: 't' }, long, ctx)!;
    expect(JSON.parse(req.body).description).toHaveLength(140);
    expect(forgeStatusRequest({ forge: 'github', baseUrl: 'https://api.github.com', repository: 'a/b', token: 't' }, event({ revision: '../../x' }), ctx)).toBeNull();
  });
});
