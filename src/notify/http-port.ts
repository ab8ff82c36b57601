/** One HTTP request a sink wants sent: the whole port between notifications and the network. */
export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export type HttpPost = (request: OutgoingRequest, signal: AbortSignal) => Promise<{ status: number; retryAfterMs?: number }>;

/** The real port: fetch with a per-request timeout; network errors reject (and are retried). */
export function fetchPost(timeoutMs = 10_000): HttpPost {
  return async (request, signal) => {
    const response = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'error',
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
    await response.arrayBuffer().catch(() => undefined);
    const retryAfter = Number(response.headers.get('retry-after'));
    return { status: response.status, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) };
  };
}
