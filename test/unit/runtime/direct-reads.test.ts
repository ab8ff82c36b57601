import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Modem from 'docker-modem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directReads, readPath, statusError } from '../../../src/runtime/direct-reads.js';
import { engineReads } from '../../../src/runtime/engine-reads.js';
import type { EngineReads } from '../../../src/runtime/engine-reads.js';

const ModemClass = createRequire(import.meta.url)('docker-modem') as typeof Modem;

/** A stand-in engine on a unix socket: records each request, answers 404 for ids starting with "gone", else JSON. */
let dir: string;
let socketPath: string;
let server: Server;
const seen: { method?: string; url?: string; headers: IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stagecoach-reads-'));
  socketPath = path.join(dir, 'docker.sock');
  server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    res.setHeader('content-type', 'application/json');
    if (req.url?.includes('/gone')) {
      res.statusCode = 404;
      res.end(JSON.stringify({ message: 'No such container: gone' }));
      return;
    }
    res.end(JSON.stringify(req.url?.startsWith('/containers/json') ? [{ Id: 'c0ffee' }] : { Id: 'c0ffee', ApiVersion: '1.41' }));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const calls: [string, (r: EngineReads) => Promise<unknown>][] = [
  ['list containers with label filters', (r) => r.listContainers({ all: true, filters: { label: ['io.stagecoach.environment=a b', 'x=y&z'] } })],
  ['inspect a container', (r) => r.inspectContainer('c0ffee')],
  ['inspect an image by a reference with a registry port', (r) => r.inspectImage('registry.local:5000/shop/web:1.2')],
  ['the engine version', (r) => r.version()],
];

describe('directReads sends what docker-modem sends, without docker-modem', () => {
  it.each(calls)('%s: same method, path and query, same answer', async (_name, call) => {
    seen.length = 0;
    const viaModem = await call(engineReads(new ModemClass({ socketPath })));
    const direct = await call(directReads({ socketPath }, () => undefined));
    expect(seen).toHaveLength(2);
    expect(seen[1]!.method).toBe(seen[0]!.method);
    expect(seen[1]!.url).toBe(seen[0]!.url);
    expect(direct).toEqual(viaModem);
  });

  it('a refused status reaches the caller as docker-modem gives it: message, statusCode, reason and json', async () => {
    const fromModem = await engineReads(new ModemClass({ socketPath })).inspectContainer('gone').catch((e: unknown) => e);
    const direct = await directReads({ socketPath }, () => undefined).inspectContainer('gone').catch((e: unknown) => e);
    expect(direct).toBeInstanceOf(Error);
    expect(direct).toMatchObject({ message: (fromModem as Error).message, statusCode: 404, reason: 'no such container', json: { message: 'No such container: gone' } });
  });

  it('a connection failure keeps its code and gets the hint connect.ts gives', async () => {
    const missing = path.join(dir, 'nothing.sock');
    const plain = await directReads({ socketPath: missing }, () => undefined).version().catch((e: unknown) => e);
    expect(plain).toMatchObject({ code: 'ENOENT' });
    const hinted = await directReads({ socketPath: missing }, (m) => `cannot reach the engine (${m})`).version().catch((e: unknown) => e);
    expect(hinted).toMatchObject({ code: 'ENOENT', message: expect.stringMatching(/^cannot reach the engine \(.*ENOENT/) });
  });
});

describe('directReads hints as the modem does', () => {
  it('a refused status gets the hint too, keeping its statusCode (a TLS engine answers plain HTTP with a 400)', async () => {
    const hint = (m: string) => (/No such container/.test(m) ? 'what to do about it' : undefined);
    const viaModem = await (() => {
      const modem = new ModemClass({ socketPath });
      const dial = modem.dial.bind(modem);
      // connect.ts's explainFailures, reduced to what this test needs.
      (modem as unknown as { dial: typeof dial }).dial = (o, cb) => dial(o, (err, data) => cb?.(err && hint(err.message) ? Object.assign(new Error(hint(err.message)!, { cause: err }), { statusCode: (err as { statusCode?: number }).statusCode }) : err, data));
      return engineReads(modem).inspectContainer('gone').catch((e: unknown) => e);
    })();
    const direct = await directReads({ socketPath }, hint).inspectContainer('gone').catch((e: unknown) => e);
    expect(direct).toMatchObject({ message: 'what to do about it', statusCode: 404 });
    expect(direct).toMatchObject({ message: (viaModem as Error).message, statusCode: (viaModem as { statusCode: number }).statusCode });
  });
});

describe('readPath', () => {
  it.each([
    [{ path: '/containers/json?', statusCodes: {}, options: { all: true, filters: { label: ['a=b'] } } }, '/containers/json?all=true&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D'],
    [{ path: '/containers/c0ffee/json?', statusCodes: {}, options: {} }, '/containers/c0ffee/json'],
    [{ path: '/containers/c0ffee/json?', statusCodes: {} }, '/containers/c0ffee/json'],
    [{ path: '/version', statusCodes: {} }, '/version'],
  ])('%j → %s', (request, expected) => {
    expect(readPath(request)).toBe(expected);
  });
});

describe('statusError', () => {
  it.each([
    [404, { message: 'No such image: x' }, '(HTTP code 404) no such image - No such image: x '],
    [500, { error: 'boom' }, '(HTTP code 500) server error - boom '],
    [409, 'plain text', '(HTTP code 409) unexpected - plain text '],
  ])('%i %j', (status, json, message) => {
    const error = statusError({ path: '/images/x/json', statusCodes: { 200: true, 404: 'no such image', 500: 'server error' } }, status, json);
    expect(error).toMatchObject({ message, statusCode: status, json });
  });
});
