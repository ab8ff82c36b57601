import { Ajv } from 'ajv';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { readSchema } from '../../src/manifest/schemas.js';
import { blockEvent, deployEvent, proposalEvent, rollbackEvent, verificationEvent } from '../support/notification-events.js';
import { fetchPost } from '../../src/notify/http-port.js';
import { createNotifyMetrics } from '../../src/notify/metrics.js';
import { Notifier } from '../../src/notify/notifier.js';
import type { NotificationSettings, SinkSettings } from '../../src/notify/sinks.js';
import { notificationKinds } from '../../src/notify/events.js';
import { freePort, waitFor } from './helpers/docker.js';
import { Receiver } from './helpers/receiver.js';

const sha = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const at = new Date().toISOString();
const events = [
  deployEvent({ environment: 'qa', revision: sha, at, deployed: { web: 'busybox:1.35' } }),
  rollbackEvent({ environment: 'qa', revision: sha, at, wanted: { web: 'shop/web:2' }, reasons: ['web: not healthy in time'] }),
  verificationEvent({ environment: 'qa', revision: sha, at, images: { web: 'busybox:1.35' }, tests: [{ name: 'home', result: 'passed', message: '200' }], markerCommit: 'c0ffee' }),
  verificationEvent({ environment: 'qa', revision: sha, at, images: { web: 'busybox:1.35' }, tests: [{ name: 'home', result: 'failed', message: 'expected 200, got 503' }], markerCommit: 'c0ffee' }),
  blockEvent({ environment: 'live', revision: sha, at, from: 'qa', images: { web: 'shop/web:3' }, reasons: ['web: no passing marker in qa'] }),
  proposalEvent({ environment: 'live', from: 'qa', revision: sha, at, outcome: 'proposed', ref: 'stagecoach/promote/live', commit: 'abc', changed: [{ service: 'web', to: 'busybox:1.35' }] }),
];
const all = notificationKinds;
const validPayload = new Ajv({ strict: false }).compile(readSchema('Notification'));
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function start(sinks: SinkSettings[], retry: NotificationSettings['retry']) {
  const registry = new Registry();
  const metrics = createNotifyMetrics(registry);
  const warnings: object[] = [];
  const notifier = new Notifier({
    settings: { pageUrl: 'http://127.0.0.1:7420/', queueSize: 100, retry, sinks },
    context: { repo: 'git://127.0.0.1/config.git', branch: 'main', pageUrl: 'http://127.0.0.1:7420/' },
    post: fetchPost(2_000),
    metrics,
    log: { warn: (o) => warnings.push(o), debug: () => undefined },
  });
  stops.push(() => notifier.stop(0));
  const count = async (name: 'delivered' | 'failed' | 'retries' | 'dropped', sink: string) => (await metrics[name].get()).values.find((v) => v.labels.sink === sink)?.value ?? 0;
  return { notifier, count, warnings };
}

describe('notifications reach a real HTTP receiver', () => {
  it('every event kind arrives signed, valid and in order, even though the receiver was down at first', async () => {
    const receiver = new Receiver(await freePort(), 'receiver-key');
    stops.push(() => receiver.down());
    const { notifier, count } = await start([{ name: 'hook', type: 'webhook', url: `${receiver.base}/in`, secret: 'receiver-key', events: all, environments: undefined }], { attempts: 100, initialDelayMs: 50, maxDelayMs: 300 });
    for (const e of events) notifier.notify(e);
    // Nothing listens yet: deliveries fail and are retried.
    await waitFor(async () => (await count('retries', 'hook')) >= 3 || undefined, { timeoutMs: 10_000, intervalMs: 20, what: 'three failed attempts while the receiver is down' });
    expect(receiver.received).toHaveLength(0);
    await receiver.up();
    await waitFor(async () => receiver.received.length >= events.length || undefined, { timeoutMs: 10_000, intervalMs: 20, what: 'every event to arrive' });
    await notifier.idle();
    const got = receiver.signedEvents();
    expect(receiver.received.every((r) => r.signatureOk === true)).toBe(true);
    expect(got.map((b) => b.event)).toEqual(['deploy', 'rollback', 'verification.passed', 'verification.failed', 'block', 'proposal']);
    for (const body of got) expect(validPayload(body), JSON.stringify(validPayload.errors)).toBe(true);
    expect(new Set(got.map((b) => b.id)).size).toBe(events.length);
    expect(receiver.received.map((r) => r.headers['x-stagecoach-event'])).toEqual(got.map((b) => b.event));
    expect(got[3]).toMatchObject({ environment: 'qa', revision: sha, summary: 'qa: failed 0/1 tests at a1b2c3d', reasons: ['home: expected 200, got 503'], marker: { commit: 'c0ffee' } });
    expect(await count('delivered', 'hook')).toBe(events.length);
    expect(await count('failed', 'hook')).toBe(0);
    expect(await count('retries', 'hook')).toBeGreaterThanOrEqual(3);
  });

  it('a receiver that refuses the signature (401) is counted as failed, not retried', async () => {
    const receiver = new Receiver(await freePort(), 'the-right-key');
    await receiver.up();
    stops.push(() => receiver.down());
    const { notifier, count, warnings } = await start([{ name: 'wrong-key', type: 'webhook', url: `${receiver.base}/in`, secret: 'a-wrong-key', events: all, environments: undefined }], { attempts: 5, initialDelayMs: 10, maxDelayMs: 10 });
    notifier.notify(events[0]!);
    await waitFor(async () => (await count('failed', 'wrong-key')) === 1 || undefined, { timeoutMs: 10_000, intervalMs: 20, what: 'the refusal to be counted' });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.signatureOk).toBe(false);
    expect(warnings).toEqual([expect.objectContaining({ sink: 'wrong-key', status: 401 })]);
    expect(JSON.stringify(warnings)).not.toContain('a-wrong-key');
  });

  it('Slack messages and GitHub, Gitea and GitLab commit statuses go to their APIs with their own auth', async () => {
    const receiver = new Receiver(await freePort(), 'unused');
    await receiver.up();
    stops.push(() => receiver.down());
    const common = { events: all, environments: undefined };
    const { notifier, count } = await start(
      [
        { ...common, name: 'chat', type: 'slack', url: `${receiver.base}/services/T0/B0/XYZ` },
        { ...common, name: 'gh', type: 'github', baseUrl: `${receiver.base}/gh`, repository: 'acme/config', token: 'gh-token' },
        { ...common, name: 'gt', type: 'gitea', baseUrl: receiver.base, repository: 'acme/config', token: 'gitea-token' },
        { ...common, name: 'gl', type: 'gitlab', baseUrl: `${receiver.base}/api/v4`, repository: 'acme/config', token: 'gl-token' },
      ],
      { attempts: 3, initialDelayMs: 10, maxDelayMs: 10 },
    );
    notifier.notify(events[2]!); // verification.passed
    notifier.notify(events[4]!); // block: a chat message, no commit status
    await waitFor(async () => receiver.received.length >= 5 || undefined, { timeoutMs: 10_000, intervalMs: 20, what: 'five requests' });
    await notifier.idle();
    const by = (prefix: string) => receiver.received.filter((r) => r.path.startsWith(prefix));
    expect(by('/services/').map((r) => (JSON.parse(r.body) as { text: string }).text.split('\n')[0])).toEqual([':white_check_mark: *qa: passed 1/1 tests at a1b2c3d*', ':no_entry: *live: revision a1b2c3d blocked by the gate from qa (1 unverified image)*']);
    const [gh] = by('/gh/');
    expect(gh!.path).toBe(`/gh/repos/acme/config/statuses/${sha}`);
    expect(gh!.headers.authorization).toBe('Bearer gh-token');
    expect(JSON.parse(gh!.body)).toEqual({ state: 'success', context: 'stagecoach/qa', description: 'qa: passed 1/1 tests at a1b2c3d', target_url: 'http://127.0.0.1:7420/' });
    const [gt] = by('/api/v1/');
    expect(gt!.path).toBe(`/api/v1/repos/acme/config/statuses/${sha}`);
    expect(gt!.headers.authorization).toBe('token gitea-token');
    const [gl] = by('/api/v4/');
    expect(gl!.path).toBe(`/api/v4/projects/acme%2Fconfig/statuses/${sha}`);
    expect(gl!.headers['private-token']).toBe('gl-token');
    expect(JSON.parse(gl!.body)).toMatchObject({ state: 'success', name: 'stagecoach/qa' });
    for (const sink of ['chat', 'gh', 'gt', 'gl']) expect(await count('failed', sink)).toBe(0);
    expect(await count('delivered', 'chat')).toBe(2);
    expect(await count('delivered', 'gh')).toBe(1);
  });
});
