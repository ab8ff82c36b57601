import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Trigger } from '../../../src/daemon/work-queue.js';
import { createMetrics } from '../../../src/daemon/metrics.js';
import { createHttpServer } from '../../../src/server/http.js';

const secret = 'edge-secret';
const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

/** The real HTTP server over a fake daemon that records triggers, with a log captured as lines. */
async function start() {
  const triggers: string[] = [];
  const lines: string[] = [];
  const daemon = { snapshot: () => ({ ready: true, environments: [] }) as never, trigger: (t: Trigger) => void triggers.push(t.reason), syncNow: () => undefined };
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  const server = createHttpServer({ daemon, metrics: createMetrics(), log, branch: 'main', webhookSecret: secret, apiToken: undefined });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, triggers, lines, port: (server.address() as AddressInfo).port };
}

const sign = (body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('HTTP edge', () => {
  it('answers 400 to a malformed percent-encoded URL, with no stack trace in the log (finding 15)', async () => {
    const { base, lines } = await start();
    const res = await fetch(`${base}/api/v1/environments/%E0%A4%A`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'malformed request URL' });
    expect(lines.join('')).not.toMatch(/URIError|stack/);
  });

  it('a signed delivery replayed 300 times triggers one check (finding 10)', async () => {
    const { base, triggers } = await start();
    const body = JSON.stringify({ ref: 'refs/heads/main', after: 'abc' });
    const headers = { 'x-github-event': 'push', 'x-github-delivery': 'd-1', 'x-hub-signature-256': sign(body) };
    const answers: number[] = [];
    for (let i = 0; i < 300; i++) answers.push(await fetch(`${base}/hooks/github`, { method: 'POST', body, headers }).then((r) => r.status));
    expect(new Set(answers)).toEqual(new Set([202]));
    expect(triggers).toHaveLength(1);
  });

  it('tag pushes, deletions and pings are answered 2xx and trigger nothing (finding 12)', async () => {
    const { base, triggers } = await start();
    for (const [event, payload] of [
      ['ping', { zen: 'hi' }],
      ['push', { ref: 'refs/tags/v1' }],
      ['push', { ref: 'refs/heads/main', deleted: true, after: '0000000000000000000000000000000000000000' }],
    ] as const) {
      const body = JSON.stringify(payload);
      const res = await fetch(`${base}/hooks/github`, { method: 'POST', body, headers: { 'x-github-event': event, 'x-hub-signature-256': sign(body) } });
      expect(res.status).toBe(202);
      expect(await res.json()).toHaveProperty('ignored');
    }
    expect(triggers).toEqual([]);
  });

  it('one client’s idle connections cannot lock the others out (finding 11)', async () => {
    const { base, port } = await start();
    const closed: boolean[] = [];
    await Promise.all(
      Array.from({ length: 100 }, () => new Promise<void>((resolve) => {
        const socket = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' }, () => resolve());
        sockets.push(socket);
        socket.on('close', () => closed.push(true));
        socket.on('error', () => undefined);
      })),
    );
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(closed.length).toBe(100 - 64);
  });
});
