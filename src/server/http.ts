import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { Metrics } from '../daemon/metrics.js';
import type { DaemonStatus } from '../daemon/status.js';
import type { Trigger } from '../daemon/work-queue.js';
import { DeliveryLog, deliveryId } from '../source/deliveries.js';
import { judgeWebhook, webhookProviders } from '../source/webhooks.js';
import type { WebhookProvider } from '../source/webhooks.js';
import { BodyTooLarge, readBody } from './body.js';
import { pageRoute } from './page/routes.js';
import { hardenServer, requestUrl } from './edge.js';
import type { EdgeLimits } from './edge.js';

/** What the server needs of the daemon: immutable status snapshots and a way to ask for work. */
export interface DaemonControl {
  snapshot(): DaemonStatus;
  trigger(trigger: Trigger): void;
  syncNow(reason: string): void;
}

export interface ServerDeps {
  daemon: DaemonControl;
  metrics: Metrics;
  log: Logger;
  branch: string;
  webhookSecret: string | undefined;
  apiToken: string | undefined;
  /** Largest webhook body accepted. */
  bodyLimit?: number;
  /** Delivery ids already acted on (replays trigger nothing). */
  deliveries?: DeliveryLog;
  limits?: EdgeLimits;
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
  res.writeHead(status, { 'content-type': type === 'application/json' ? 'application/json; charset=utf-8' : type, 'cache-control': 'no-store' });
  res.end(text);
}

function bearerOk(req: IncomingMessage, token: string): boolean {
  const given = Buffer.from((req.headers.authorization ?? '').replace(/^Bearer\s+/i, ''));
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

async function webhook(provider: WebhookProvider, req: IncomingMessage, res: ServerResponse, deps: ServerDeps): Promise<void> {
  let body: Buffer;
  try {
    body = await readBody(req, deps.bodyLimit ?? 1024 * 1024);
  } catch (error) {
    const tooLarge = error instanceof BodyTooLarge;
    deps.metrics.webhooks.inc({ provider, outcome: tooLarge ? 'too-large' : 'error' });
    deps.log.warn({ provider, reason: (error as Error).message }, 'webhook refused');
    send(res, tooLarge ? 413 : 400, { error: (error as Error).message });
    return;
  }
  const verdict = judgeWebhook(provider, req.headers, body, deps.webhookSecret, deps.branch);
  deps.metrics.webhooks.inc({ provider, outcome: verdict.outcome });
  if (verdict.outcome === 'rejected') {
    deps.log.warn({ provider, reason: verdict.reason }, 'webhook rejected');
    send(res, verdict.status, { error: verdict.reason });
    return;
  }
  if (verdict.outcome === 'ignored') {
    deps.log.info({ provider, reason: verdict.reason }, 'webhook ignored');
    send(res, 202, { ignored: verdict.reason });
    return;
  }
  const id = deliveryId(provider, req.headers);
  if (id && deps.deliveries && !deps.deliveries.firstSeen(id)) {
    deps.log.info({ provider, delivery: id }, 'webhook ignored: delivery already seen');
    send(res, 202, { ignored: `delivery ${id} was already received` });
    return;
  }
  deps.log.info({ provider, reason: verdict.reason }, 'webhook accepted: checking the config repo');
  deps.daemon.trigger({ kind: 'webhook', reason: `webhook (${provider}): ${verdict.reason}` });
  send(res, 202, { accepted: verdict.reason });
}

async function route(req: IncomingMessage, res: ServerResponse, deps: ServerDeps): Promise<void> {
  const url = requestUrl(req);
  if (!url) return send(res, 400, { error: 'malformed request URL' });
  const { daemon } = deps;
  const method = req.method ?? 'GET';
  // One snapshot per request: a reader never sees half a cycle.
  const status = daemon.snapshot();
  if (method === 'GET' && url.pathname === '/healthz') return send(res, 200, { status: 'ok' });
  if (method === 'GET' && url.pathname === '/readyz') return send(res, status.ready ? 200 : 503, { ready: status.ready });
  if (method === 'GET' && url.pathname === '/metrics') return send(res, 200, await deps.metrics.registry.metrics(), deps.metrics.registry.contentType);
  const page = pageRoute(method, url.pathname, () => status);
  if (page) {
    res.writeHead(page.status, page.headers);
    return void res.end(method === 'HEAD' ? undefined : page.body);
  }
  if (method === 'GET' && url.pathname === '/api/v1/environments') return send(res, 200, status);
  const envMatch = /^\/api\/v1\/environments\/([^/]+)$/.exec(url.pathname);
  if (method === 'GET' && envMatch) {
    const name = decodeURIComponent(envMatch[1]!);
    const env = status.environments.find((e) => e.name === name);
    return env ? send(res, 200, env) : send(res, 404, { error: `no environment named ${envMatch[1]}` });
  }
  if (method === 'POST' && url.pathname === '/api/v1/sync') {
    if (!deps.apiToken) return send(res, 403, { error: 'the sync API is disabled: set STAGECOACH_API_TOKEN' });
    if (!bearerOk(req, deps.apiToken)) return send(res, 401, { error: 'missing or wrong bearer token' });
    daemon.syncNow('sync API');
    return send(res, 202, { accepted: 'sync requested' });
  }
  const hook = /^\/hooks\/([a-z]+)$/.exec(url.pathname);
  if (method === 'POST' && hook && (webhookProviders as readonly string[]).includes(hook[1]!)) return webhook(hook[1] as WebhookProvider, req, res, deps);
  send(res, 404, { error: `no route for ${method} ${url.pathname}` });
}

/** Health, metrics, the status API and page, the sync API and webhooks, as a request listener. */
export function createRequestHandler(input: ServerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const deps: ServerDeps = { ...input, deliveries: input.deliveries ?? new DeliveryLog(Date.now) };
  return (req, res) => {
    route(req, res, deps).catch((error: unknown) => {
      deps.log.error({ err: error }, 'http handler failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    });
  };
}

/** The same, as a server of its own (tests, or a caller that binds it itself), with the edge limits (connection caps, timeouts). */
export function createHttpServer(deps: ServerDeps): Server {
  return hardenServer(createServer(createRequestHandler(deps)), deps.limits);
}
