import { createServer } from 'node:net';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  what: string;
  /** More to say when it times out (the daemon's output so far, say). */
  detail?: () => string;
}

/** Polls `fn` until it returns something other than undefined, null or false; throws naming `what` (and the last result or error) after timeoutMs. */
export async function waitFor<T>(fn: () => Promise<T | undefined | null | false>, { timeoutMs = 30_000, intervalMs = 200, what, detail }: WaitForOptions): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt finished';
  for (;;) {
    try {
      const result = await fn();
      if (result !== undefined && result !== null && result !== false) return result;
      last = `last result: ${String(result)}`;
    } catch (err) {
      last = `last error: ${errorText(err)}`;
    }
    if (Date.now() + intervalMs > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (${last})${detail ? `\n${detail()}` : ''}`);
    await sleep(intervalMs);
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: no TCP address'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
