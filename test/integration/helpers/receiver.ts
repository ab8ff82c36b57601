import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** For requests carrying X-Stagecoach-Signature: whether it matched the receiver's key. */
  signatureOk: boolean | undefined;
}

/**
 * A notification receiver on loopback, as an operator would write one: it
 * checks the HMAC-SHA256 signature over the raw body (constant-time) and
 * answers 401 when it does not match. It can be down (nothing listens on
 * its port) and come up later on the same port.
 */
export class Receiver {
  readonly received: Received[] = [];
  private server: Server | undefined;

  constructor(
    readonly port: number,
    private readonly key: string,
  ) {}

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const given = req.headers['x-stagecoach-signature'];
        let signatureOk: boolean | undefined;
        if (typeof given === 'string') {
          const want = Buffer.from(`sha256=${createHmac('sha256', this.key).update(raw).digest('hex')}`);
          signatureOk = given.length === want.length && timingSafeEqual(Buffer.from(given), want);
        }
        this.received.push({ path: req.url ?? '', headers: req.headers, body: raw.toString('utf8'), signatureOk });
        res.writeHead(signatureOk === false ? 401 : 201, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  /** Parsed generic-webhook bodies whose signature matched. */
  signedEvents(): Record<string, unknown>[] {
    return this.received.filter((r) => r.signatureOk === true).map((r) => JSON.parse(r.body) as Record<string, unknown>);
  }
}
