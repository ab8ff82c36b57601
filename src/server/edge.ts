import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';

export interface EdgeLimits {
  /** Open connections from one client address; more are closed at once. */
  perAddress: number;
  /** Open connections in all. */
  total: number;
  /** Time a client has to send its request headers. */
  headersTimeoutMs: number;
  /** Time a client has to send its whole request. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept. */
  keepAliveTimeoutMs: number;
}

export const defaultEdgeLimits: EdgeLimits = { perAddress: 64, total: 1024, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 };

/**
 * Limits that keep the HTTP server answering under a flood of idle or slow
 * connections: a cap per client address (one client cannot lock out
 * /healthz, hooks and the API for the others), a total cap, and timeouts for
 * headers, requests and idle keep-alive connections.
 */
export function hardenServer(server: Server, limits: EdgeLimits = defaultEdgeLimits): Server {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.total;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = (open.get(address) ?? 0) + 1;
    if (count > limits.perAddress) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
  return server;
}

/** The request's path and query, or undefined for a URL that cannot be parsed or percent-decoded (answer 400, no stack trace). */
export function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    const url = new URL(req.url ?? '/', 'http://localhost');
    decodeURIComponent(url.pathname);
    return url;
  } catch {
    return undefined;
  }
}
