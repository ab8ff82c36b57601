import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpTest } from '../../../src/manifest/types.js';
import { httpAttempt } from '../../../src/verify/http.js';

/** A local service with the answers a test may get. */
function service(): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      switch (req.url) {
        case '/health':
          res.writeHead(200, { 'content-type': 'text/plain' });
          return res.end('ok: all systems go');
        case '/down':
          res.writeHead(503, { 'content-type': 'text/plain' });
          return res.end('maintenance until 10:00');
        case '/status':
          return json(200, { status: 'ready', version: 2, checks: [{ name: 'db', ok: true }], build: { sha: 'abc' } });
        case '/echo':
          return json(200, { method: req.method, token: req.headers['x-token'] ?? null, type: req.headers['content-type'] ?? null, body: Buffer.concat(chunks).toString('utf8') });
        case '/moved':
          res.writeHead(302, { location: '/health' });
          return res.end();
        case '/slow':
          // Never answers; the test's timeout must end it.
          return;
        default:
          res.writeHead(404);
          return res.end('not found');
      }
    });
  });
}

let server: Server;
let base: string;
let closedPort: number;

beforeAll(async () => {
  server = service();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A port that was just free and now has nobody listening.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

type Expect = Partial<HttpTest['expect']>;
const get = (path: string, want: Expect = {}, more: Partial<HttpTest> = {}): HttpTest => ({
  method: 'GET',
  url: `${base}${path}`,
  headers: {},
  body: null,
  ...more,
  expect: { status: 200, body: null, bodyRegex: null, json: {}, ...want },
});

describe('httpAttempt', () => {
  it.each([
    ['the status matches', '/health', {}, '200 from GET {base}/health'],
    ['the body contains the text', '/health', { body: 'all systems' }, '200 from GET {base}/health'],
    ['the body matches the regex', '/health', { bodyRegex: '^ok: .* go$' }, '200 from GET {base}/health'],
    ['every JSON path has its value', '/status', { json: { '$.status': 'ready', '$.version': 2, 'checks[0].ok': true, '$.build': { sha: 'abc' } } }, '200 from GET {base}/status'],
    ['a 503 is expected', '/down', { status: 503 }, '503 from GET {base}/down'],
    ['a redirect is expected (not followed)', '/moved', { status: 302 }, '302 from GET {base}/moved'],
  ])('passes when %s', async (_name, path, want, message) => {
    expect(await httpAttempt(get(path, want), 2_000)).toEqual({ result: 'passed', message: message.replace('{base}', base) });
  });

  it('fails on the wrong status, naming both and copying nothing of the body', async () => {
    expect(await httpAttempt(get('/down'), 2_000)).toEqual({ result: 'failed', message: `expected 200, got 503 from GET ${base}/down` });
  });

  it('never copies what it read into the result: long bodies are cut, token-like runs hidden', async () => {
    const secret = 'AKIAIOSFODNN7EXAMPLEwJalrXUtnFEMIK7MDENGbPxRfiCY';
    const result = await httpAttempt(get('/echo', { json: { '$.token': 'x' } }, { headers: { 'x-token': secret } }), 2_000);
    expect(result.message).toBe(`expected $.token = "x" from GET ${base}/echo; it differed (got a string)`);
    const body = await httpAttempt(get('/echo', { body: 'nope' }, { headers: { 'x-token': secret } }), 2_000);
    expect(body.message).not.toContain(secret.slice(0, 16));
    expect(body.message).toBe(`expected the body to contain "nope" from GET ${base}/echo; it differed, beginning ${JSON.stringify('{"method":"GET","token":…')}`);
    expect(body.output).toBeUndefined();
  });

  it.each([
    ['the body lacks the text', '/health', { body: 'degraded' }, 'expected the body to contain "degraded" from GET {base}/health; it differed, beginning "ok: all systems go"'],
    ['the body does not match the regex', '/health', { bodyRegex: '^OK$' }, 'expected the body to match /^OK$/ from GET {base}/health; it differed, beginning "ok: all systems go"'],
    ['a JSON value differs', '/status', { json: { '$.status': 'ready', '$.version': 3 } }, 'expected $.version = 3 from GET {base}/status; it differed (got a number)'],
    ['a JSON value has another type', '/status', { json: { '$.version': '2' } }, 'expected $.version = "2" from GET {base}/status; it differed (got a number)'],
    ['a JSON object differs', '/status', { json: { '$.build': { sha: 'def' } } }, 'expected $.build = {"sha":"def"} from GET {base}/status; it differed (got an object)'],
    ['a JSON path is missing', '/status', { json: { 'checks[3].name': 'cache' } }, 'expected checks[3].name = "cache" from GET {base}/status; it differed (got nothing)'],
    ['the body is not JSON', '/health', { json: { '$.status': 'ready' } }, 'expected a JSON body from GET {base}/health; it begins "ok: all systems go"'],
    ['a redirect is not followed', '/moved', {}, 'expected 200, got 302 from GET {base}/moved'],
  ])('fails when %s, saying what it expected and what came', async (_name, path, want, message) => {
    const result = await httpAttempt(get(path, want), 2_000);
    expect(result.result).toBe('failed');
    expect(result.message).toBe(message.replace('{base}', base));
  });

  it('sends the method, headers and body', async () => {
    const test = get('/echo', { json: { '$.method': 'POST', '$.token': 's3cret', '$.type': 'application/json', '$.body': '{"dry":true}' } }, { method: 'POST', headers: { 'x-token': 's3cret', 'content-type': 'application/json' }, body: '{"dry":true}' });
    expect(await httpAttempt(test, 2_000)).toEqual({ result: 'passed', message: `200 from POST ${base}/echo` });
  });

  it('says when nothing listens on the port', async () => {
    const url = `http://127.0.0.1:${closedPort}/health`;
    expect(await httpAttempt({ ...get('/health'), url }, 2_000)).toEqual({ result: 'failed', message: `cannot reach ${url}: ECONNREFUSED` });
  });

  it('says when no answer came within the timeout', async () => {
    const started = Date.now();
    expect(await httpAttempt(get('/slow'), 150)).toEqual({ result: 'failed', message: `no answer from ${base}/slow within 150ms` });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('explains a name that does not resolve', async () => {
    const result = await httpAttempt({ ...get('/'), url: 'http://no-such-service.invalid/health' }, 5_000);
    expect(result.result).toBe('failed');
    expect(result.message).toMatch(/^cannot resolve no-such-service\.invalid \((ENOTFOUND|EAI_AGAIN)\): a service name only resolves when the daemon shares the environment's network; use a published port otherwise$/);
  });
});
