import http from 'node:http';
import https from 'node:https';
import { stringify } from 'node:querystring';
import type { EngineReads, ReadRequest } from './engine-reads.js';
import { readsOver } from './engine-reads.js';

/** Where and how to reach the engine: the options docker-modem is given (connect.ts). */
export interface EngineConnection {
  socketPath?: string | undefined;
  host?: string | undefined;
  port?: number | string | undefined;
  protocol?: string | undefined;
  ca?: string | Buffer | Buffer[] | undefined;
  cert?: string | Buffer | undefined;
  key?: string | Buffer | undefined;
  /** ssh:// engines: HTTP over an ssh channel (ssh-transport.ts). */
  agent?: http.Agent | undefined;
}

/** The request path with its query, built as docker-modem builds it (objects as JSON, `?` dropped without a query). */
export function readPath({ path, options }: ReadRequest): string {
  if (!path.includes('?')) return path;
  const query = options as Record<string, unknown> | undefined;
  if (!query || Object.keys(query).length === 0) return path.slice(0, -1);
  const flat = Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v && typeof v === 'object' && !Array.isArray(v) ? JSON.stringify(v) : v]));
  return path + stringify(flat as Record<string, string>);
}

/** An answer whose status the read does not accept, as docker-modem reports it (dockerode's callers read statusCode and json). */
export function statusError(request: ReadRequest, statusCode: number, json: unknown): Error {
  const cause = json as { message?: unknown; error?: unknown } | null;
  const text = (typeof json === 'object' && json !== null ? (cause?.message ?? cause?.error) : undefined) ?? json;
  const reason = request.statusCodes[statusCode];
  return Object.assign(new Error(`(HTTP code ${statusCode}) ${typeof reason === 'string' ? reason : 'unexpected'} - ${String(text)} `), { reason, statusCode, json });
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The engine reads over Node's http client, without docker-modem: the same
 * requests on the same connection options, minus the modem's per-request
 * work (a debug dump of the options, URL formatting, a redirect wrapper) and
 * its module load. `plan` at 200 services sends 201 of them. Connection
 * failures get the same hints as the modem's (`hint`, connect.ts).
 */
export function directReads(connection: EngineConnection, hint: (message: string) => string | undefined): EngineReads {
  const secure = (connection.protocol ?? (connection.key && connection.cert && connection.ca ? 'https' : 'http')) === 'https';
  const client = secure ? https : http;
  const base = connection.socketPath
    ? { socketPath: connection.socketPath }
    : { host: connection.host, port: connection.port, ...(connection.agent ? { agent: connection.agent } : {}), ...(secure ? { ca: connection.ca, cert: connection.cert, key: connection.key } : {}) };
  return readsOver(
    (request) =>
      new Promise((resolve, reject) => {
        const req = client.request({ ...base, method: 'GET', path: readPath(request) }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const json = parseBody(Buffer.concat(chunks).toString());
            const status = res.statusCode ?? 0;
            if (request.statusCodes[status] === true) resolve(json);
            else fail(statusError(request, status, json));
          });
        });
        // As connect.ts's explainFailures does for the modem: a refused status too (a TLS engine answers plain HTTP with a 400).
        const fail = (err: Error) => {
          const better = hint(err.message);
          reject(better ? Object.assign(new Error(better, { cause: err }), { code: (err as NodeJS.ErrnoException).code, statusCode: (err as { statusCode?: number }).statusCode }) : err);
        };
        req.on('error', fail);
        req.end();
      }),
  );
}
