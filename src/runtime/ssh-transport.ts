import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import type { Client, ConnectConfig } from 'ssh2';

const require = createRequire(import.meta.url);

/**
 * An http.Agent that carries Engine API requests over ssh: one ssh
 * connection, shared by every request, and a `docker system dial-stdio`
 * channel per HTTP connection. docker-modem's own ssh transport opens a new
 * ssh connection for every request (measured on loopback: 266 ms per API
 * call; 150 ms here, most of it the remote `docker` CLI starting). The connection closes after `idleMs` without an open channel, so
 * a CLI run can exit; the next request connects again.
 */
export class SshDialAgent extends Agent {
  private client: Promise<Client> | undefined;
  private open = 0;
  private idle: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: ConnectConfig,
    private readonly idleMs = 1_000,
  ) {
    // sshd opens at most 10 sessions per connection (MaxSessions), counting ones still closing: queue beyond 4.
    super({ keepAlive: false, maxSockets: 4 });
  }

  private connect(): Promise<Client> {
    if (this.client) return this.client;
    // ssh2 loads on the first ssh connection: at import it compiles WebAssembly (+15 MB RSS, ~45 ms), which engines on a socket or TCP never need.
    const { Client: SshClient } = require('ssh2') as typeof import('ssh2');
    const client = new SshClient();
    const ready = new Promise<Client>((resolve, reject) => {
      client.once('ready', () => resolve(client));
      // Every error, not only the first: an unheard 'error' event would end the process.
      client.on('error', (error) => {
        if (this.client === ready) this.client = undefined;
        reject(error);
      });
      client.once('close', () => {
        if (this.client === ready) this.client = undefined;
      });
    });
    client.connect(this.config);
    this.client = ready;
    return ready;
  }

  private release(client: Client): void {
    this.open -= 1;
    if (this.open > 0) return;
    clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      if (this.open === 0) {
        this.client = undefined;
        client.end();
      }
    }, this.idleMs);
  }

  override createConnection(_options: unknown, callback: (error: Error | null, socket?: Duplex) => void): undefined {
    clearTimeout(this.idle);
    this.connect().then((client) => this.dial(client, callback, 1), (error: Error) => callback(error));
    return undefined;
  }

  private dial(client: Client, callback: (error: Error | null, socket?: Duplex) => void, attempt: number): void {
    client.exec('docker system dial-stdio', (error, stream) => {
      // Sessions that are still closing count against MaxSessions: wait a little and open again.
      if (error && /Channel open failure/.test(error.message) && attempt < 20) {
        setTimeout(() => this.dial(client, callback, attempt + 1), 25 * attempt);
        return;
      }
      if (error) return callback(error);
      this.open += 1;
      let released = false;
      const done = () => {
        if (!released) {
          released = true;
          this.release(client);
        }
      };
      stream.once('close', done);
      stream.once('error', done);
      // http.ClientRequest treats the channel as its socket; these are no-ops on an ssh channel.
      Object.assign(stream, { setTimeout: () => stream, setNoDelay: () => stream, setKeepAlive: () => stream, ref: () => stream, unref: () => stream });
      callback(null, stream);
    });
  }

  override destroy(): void {
    clearTimeout(this.idle);
    void this.client?.then((c) => c.end(), () => undefined);
    this.client = undefined;
    super.destroy();
  }
}
