import type { HttpPost, OutgoingRequest } from '../../src/notify/http-port.js';

type Answer = number | { status: number; retryAfterMs?: number } | Error | Promise<number>;

/**
 * The notifier's HTTP port in memory: records every request and answers from
 * a script (a status, an error to throw, or a promise the test settles),
 * falling back to 200 once the script is used up.
 */
export class FakeHttpPost {
  readonly requests: OutgoingRequest[] = [];
  private readonly script: Answer[] = [];

  answer(...answers: Answer[]): this {
    this.script.push(...answers);
    return this;
  }

  readonly post: HttpPost = async (request, signal) => {
    this.requests.push(request);
    const next = this.script.shift() ?? 200;
    if (next instanceof Error) throw next;
    if (next instanceof Promise) {
      const status = await Promise.race([next, new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }))]);
      return { status };
    }
    return typeof next === 'number' ? { status: next } : next;
  };
}

/** An injected sleep that records every wait and returns at once (or waits for release when held). */
export class FakeSleep {
  readonly waits: number[] = [];
  private held: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  hold = false;

  readonly sleep = (ms: number, signal: AbortSignal): Promise<void> => {
    this.waits.push(ms);
    if (!this.hold) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.held.push({ resolve, reject });
      signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
  };

  release(): void {
    for (const h of this.held.splice(0)) h.resolve();
  }
}

/** A connection refused, as fetch reports it. */
export function connectionRefused(): Error {
  return Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) });
}
