// A unix socket in front of the Docker engine that writes down every request
// line it carries: how many Engine API calls a run made, and when. Used by
// bench/daemon.ts (calls per drift check) and bench/rollout-trace.ts.
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

export interface ApiCall {
  at: number;
  route: string;
}

/** An Engine API path as a route: no version prefix or query, ids and image references as placeholders. */
export function normalizeRoute(url: string): string {
  return url
    .split('?')[0]!
    .replace(/^\/v\d+\.\d+/, '')
    .replace(/^\/containers\/(?!json$|create$)[^/]+/, '/containers/{id}')
    .replace(/^\/images\/(?!json$|create$).+\/json$/, '/images/{ref}/json')
    .replace(/^\/networks\/(?!create$)[^/]+/, '/networks/{id}');
}

export class DockerProxy {
  readonly calls: ApiCall[] = [];
  private readonly sockets = new Set<Socket>();
  private constructor(
    readonly socketPath: string,
    private readonly server: Server,
  ) {}

  /** Listens on `<dir>/docker.sock` and forwards to the engine's socket at `upstream`. */
  static async start(dir: string, upstream: string): Promise<DockerProxy> {
    const socketPath = path.join(dir, 'docker.sock');
    const server = createServer();
    const proxy = new DockerProxy(socketPath, server);
    server.on('connection', (client) => {
      const engine = createConnection(upstream);
      proxy.sockets.add(client).add(engine);
      let carry = '';
      client.on('data', (chunk: Buffer) => {
        const text = carry + chunk.toString('latin1');
        // Not anchored: on a kept-alive socket a request follows the last one's body, which need not end in CRLF.
        const re = /(GET|POST|PUT|DELETE|HEAD) (\/\S+) HTTP\/1\.[01]\r\n/g;
        let m: RegExpExecArray | null;
        let end = 0;
        while ((m = re.exec(text))) {
          proxy.calls.push({ at: performance.now(), route: `${m[1]} ${normalizeRoute(m[2]!)}` });
          end = re.lastIndex;
        }
        carry = text.slice(Math.max(end, text.length - 512));
      });
      client.pipe(engine);
      engine.pipe(client);
      const close = () => {
        client.destroy();
        engine.destroy();
        proxy.sockets.delete(client);
        proxy.sockets.delete(engine);
      };
      client.on('error', close).on('close', close);
      engine.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    return proxy;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
