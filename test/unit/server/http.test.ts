import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/daemon/metrics.js';
import type { DaemonStatus } from '../../../src/daemon/status.js';
import { emptyEnvironment } from '../../../src/daemon/status.js';
import type { Trigger } from '../../../src/daemon/work-queue.js';
import { createHttpServer } from '../../../src/server/http.js';

const secret = "It's a Secret to Everybody";
const status: DaemonStatus = { ready: false, repo: 'git://example/config.git', branch: 'main', remote: { head: null, checkedAt: null, error: null }, environments: [{ ...emptyEnvironment('alpha'), state: 'synced' }] };

/** The daemon as the server sees it: snapshots and requests for work, recorded. */
const daemon = {
  current: status,
  triggers: [] as Trigger[],
  syncs: [] as string[],
  snapshot() {
    return this.current;
  },
  trigger(t: Trigger) {
    this.triggers.push(t);
  },
  syncNow(reason: string) {
    this.syncs.push(reason);
  },
};

let server: Server;
let base: string;

beforeAll(async () => {
  server = createHttpServer({ daemon, metrics: createMetrics(), log: pino({ level: 'silent' }), branch: 'main', webhookSecret: secret, apiToken: 'token-123', bodyLimit: 1024 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const get = async (path: string) => {
  const r = await fetch(`${base}${path}`);
  return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
};
const post = async (path: string, body: string, headers: Record<string, string> = {}) => {
  const r = await fetch(`${base}${path}`, { method: 'POST', body, headers });
  return { status: r.status, body: await r.text() };
};

describe('the HTTP server', () => {
  it.each([
    ['/healthz', 200, '{\n  "status": "ok"\n}'],
    ['/readyz', 503, '{\n  "ready": false\n}'],
    ['/api/v1/environments/nope', 404, '{\n  "error": "no environment named nope"\n}'],
    ['/nowhere', 404, '{\n  "error": "no route for GET /nowhere"\n}'],
  ])('GET %s answers %i', async (path, code, body) => {
    expect(await get(path)).toMatchObject({ status: code, body });
  });

  it('serves the snapshot it is handed, whole', async () => {
    const all = await get('/api/v1/environments');
    expect(JSON.parse(all.body)).toEqual(status);
    expect(JSON.parse((await get('/api/v1/environments/alpha')).body)).toMatchObject({ name: 'alpha', state: 'synced' });
    expect((await get('/')).body).toContain('alpha');
    daemon.current = { ...status, ready: true };
    expect((await get('/readyz')).status).toBe(200);
  });

  it('/metrics uses the standard process_* and nodejs_* names, and no event-loop lag read at a coarse resolution', async () => {
    const { body, type } = await get('/metrics');
    expect(type).toMatch(/^text\/plain/);
    expect(body).toMatch(/^process_cpu_user_seconds_total /m);
    expect(body).toMatch(/^nodejs_heap_size_used_bytes /m);
    expect(body).not.toContain('stagecoach_process_');
    expect(body).not.toContain('nodejs_eventloop_lag');
    expect(body).toContain('# TYPE stagecoach_environment_loads_total counter');
  });

  it.each([
    ['a wrong token', { authorization: 'Bearer wrong' }, 401],
    ['no token', {}, 401],
    ['the right token', { authorization: 'Bearer token-123' }, 202],
  ])('POST /api/v1/sync with %s answers %i', async (_what, headers, code) => {
    const before = daemon.syncs.length;
    expect((await post('/api/v1/sync', '', headers)).status).toBe(code);
    expect(daemon.syncs.length - before).toBe(code === 202 ? 1 : 0);
  });

  it('a signed push webhook asks for a remote check; a forged or oversized one does not', async () => {
    const payload = '{"ref":"refs/heads/main"}';
    const sign = (body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    const before = daemon.triggers.length;
    expect((await post('/hooks/github', payload, { 'x-hub-signature-256': sign('other') })).status).toBe(401);
    expect((await post('/hooks/github', 'x'.repeat(4096), { 'x-hub-signature-256': sign('x'.repeat(4096)) })).status).toBe(413);
    expect(daemon.triggers.length).toBe(before);
    const accepted = await post('/hooks/github', payload, { 'x-hub-signature-256': sign(payload), 'x-github-event': 'push' });
    expect(accepted.status).toBe(202);
    expect(daemon.triggers.slice(before)).toEqual([{ kind: 'webhook', reason: expect.stringMatching(/^webhook \(github\): /) }]);
  });
});
