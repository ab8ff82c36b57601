import type { WebhookProvider } from './webhooks.js';

/** The header each provider puts its delivery id in. */
const deliveryHeaders: Record<WebhookProvider, string> = {
  github: 'x-github-delivery',
  gitea: 'x-gitea-delivery',
  gitlab: 'x-gitlab-event-uuid',
  generic: 'x-delivery-id',
};

export function deliveryId(provider: WebhookProvider, headers: Record<string, string | string[] | undefined>): string | undefined {
  const v = headers[deliveryHeaders[provider]];
  const id = (Array.isArray(v) ? v[0] : v)?.trim();
  return id ? `${provider}:${id.slice(0, 200)}` : undefined;
}

/**
 * Delivery ids seen within a window: a replayed (or redelivered) signed
 * webhook is answered but triggers nothing. Bounded in size, so a flood of
 * distinct ids cannot grow it without limit (the oldest are forgotten first).
 */
export class DeliveryLog {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly windowMs = 10 * 60_000,
    private readonly maxEntries = 10_000,
  ) {}

  /** True the first time an id is seen within the window; false for a replay. */
  firstSeen(id: string): boolean {
    const now = this.now();
    for (const [key, at] of this.seen) {
      if (now - at < this.windowMs && this.seen.size < this.maxEntries) break;
      this.seen.delete(key); // Map keeps insertion order: the oldest go first
    }
    const at = this.seen.get(id);
    if (at !== undefined && now - at < this.windowMs) return false;
    this.seen.delete(id);
    this.seen.set(id, now);
    return true;
  }
}

/**
 * At most one call of `fn` in flight: callers arriving meanwhile share its
 * promise instead of starting another (300 webhooks during a rollout make one
 * `git ls-remote`, not 300).
 */
export function singleFlight<T>(fn: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | null = null;
  return () => {
    inFlight ??= fn().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
}
