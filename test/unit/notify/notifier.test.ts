import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Notifier } from '../../../src/notify/notifier.js';
import { connectionRefused, FakeHttpPost, FakeSleep } from '../../support/fake-http-post.js';
import { ctx, event, memoryLog, metrics, settings, webhookSink } from './support.js';

function setup(sinks = [webhookSink()], over: Parameters<typeof settings>[1] = {}) {
  const http = new FakeHttpPost();
  const clock = new FakeSleep();
  const m = metrics();
  const log = memoryLog();
  let n = 0;
  const notifier = new Notifier({ settings: settings(sinks, over), context: ctx, post: http.post, metrics: m.metrics, log, sleep: clock.sleep, newId: () => `id-${++n}` });
  return { http, clock, notifier, count: m.count, log };
}

describe('the notifier', () => {
  it('returns at once: nothing is sent before the caller goes on, then the signed body arrives', async () => {
    const { http, notifier, count } = setup();
    notifier.notify(event());
    expect(http.requests).toHaveLength(0);
    await notifier.idle();
    expect(http.requests).toHaveLength(1);
    const [req] = http.requests;
    expect(req!.headers['X-Stagecoach-Signature']).toBe(`sha256=${createHmac('sha256', 'k3y').update(req!.body).digest('hex')}`);
    expect(JSON.parse(req!.body)).toMatchObject({ id: 'id-1', event: 'verification.passed', environment: 'qa' });
    expect(await count('delivered', 'hook')).toBe(1);
  });

  it('retries transient failures with exponential backoff (capped), same delivery id, then delivers', async () => {
    const { http, clock, notifier, count } = setup([webhookSink()], { retry: { attempts: 10, initialDelayMs: 1_000, maxDelayMs: 5_000 } });
    http.answer(503, connectionRefused(), 500, 502, 429, 200);
    notifier.notify(event());
    await notifier.idle();
    expect(clock.waits).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    expect(new Set(http.requests.map((r) => r.headers['X-Stagecoach-Delivery']))).toEqual(new Set(['id-1']));
    expect(await count('delivered', 'hook')).toBe(1);
    expect(await count('retries', 'hook')).toBe(5);
    expect(await count('failed', 'hook')).toBe(0);
  });

  it('waits at least what Retry-After asks', async () => {
    const { http, clock, notifier } = setup();
    http.answer({ status: 429, retryAfterMs: 7_000 });
    notifier.notify(event());
    await notifier.idle();
    expect(clock.waits).toEqual([7_000]);
  });

  it.each([
    ['a refusal (400) is not retried', [400], 1, 1],
    ['a missing endpoint (404) is not retried', [404], 1, 1],
    ['a failure that lasts past every attempt', [500, 500, 500, 500, 500], 5, 1],
  ])('gives up on %s and counts it as failed', async (_what, answers, requests, failed) => {
    const { http, notifier, count, log } = setup();
    http.answer(...answers);
    notifier.notify(event());
    await notifier.idle();
    expect(http.requests).toHaveLength(requests);
    expect(await count('failed', 'hook')).toBe(failed);
    expect(await count('delivered', 'hook')).toBe(0);
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(['notification not delivered']);
  });

  it('drops the oldest when a sink queue is full, counts it, and keeps going', async () => {
    const { http, notifier, count } = setup([webhookSink()], { queueSize: 2 });
    let release!: (status: number) => void;
    http.answer(new Promise<number>((resolve) => (release = resolve)));
    notifier.notify(event({ environment: 'a' }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(http.requests).toHaveLength(1);
    for (const env of ['b', 'c', 'd', 'e']) notifier.notify(event({ environment: env }));
    // 'a' is in flight; b, c, d, e compete for 2 places: b and c are dropped.
    release(200);
    await notifier.idle();
    expect(http.requests.map((r) => JSON.parse(r.body).environment)).toEqual(['a', 'd', 'e']);
    expect(await count('dropped', 'hook')).toBe(2);
    expect(await count('delivered', 'hook')).toBe(3);
  });

  it('a sink that is down does not hold back another sink', async () => {
    const down = webhookSink({ name: 'down', url: 'http://down.example/' });
    const up = webhookSink({ name: 'up', url: 'http://up.example/' });
    const { http, clock, notifier, count } = setup([down, up]);
    clock.hold = true;
    http.answer(503);
    notifier.notify(event());
    await new Promise((resolve) => setImmediate(resolve));
    expect(http.requests.map((r) => r.url)).toEqual(['http://down.example/', 'http://up.example/']);
    expect(await count('delivered', 'up')).toBe(1);
    expect(await count('delivered', 'down')).toBe(0);
    clock.release();
    await notifier.idle();
    expect(await count('delivered', 'down')).toBe(1);
  });

  it('sends a sink only the events and environments it asked for', async () => {
    const { http, notifier } = setup([webhookSink({ events: ['rollback', 'block'], environments: ['live'] })]);
    notifier.notify(event({ kind: 'rollback', environment: 'qa' }));
    notifier.notify(event({ kind: 'deploy', environment: 'live' }));
    notifier.notify(event({ kind: 'block', environment: 'live' }));
    await notifier.idle();
    expect(http.requests.map((r) => JSON.parse(r.body).event)).toEqual(['block']);
  });

  it('on stop: what is still waiting is dropped and counted, nothing more is taken', async () => {
    const { http, clock, notifier, count } = setup();
    clock.hold = true;
    http.answer(new Promise<number>(() => undefined)); // 'a' hangs in flight
    notifier.notify(event({ environment: 'a' }));
    notifier.notify(event({ environment: 'b' }));
    await new Promise((resolve) => setImmediate(resolve));
    const stopped = notifier.stop(2_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(clock.waits).toEqual([2_000]);
    clock.release(); // the grace period passes: 'a' is aborted, 'b' never leaves
    await stopped;
    notifier.notify(event({ environment: 'c' }));
    await notifier.idle();
    expect(http.requests).toHaveLength(1);
    expect(await count('dropped', 'hook')).toBe(2);
  });

  it('never puts a secret or a URL in its log lines', async () => {
    const { http, notifier, log } = setup([webhookSink({ url: 'https://hooks.example/T000/B000/XXXXsecretpath' })]);
    http.answer(connectionRefused(), 400);
    notifier.notify(event());
    await notifier.idle();
    const text = JSON.stringify(log.lines);
    expect(text).toContain('ECONNREFUSED');
    expect(text).not.toContain('secretpath');
    expect(text).not.toContain('k3y');
  });
});
