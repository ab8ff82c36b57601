import { createHmac, timingSafeEqual } from 'node:crypto';

export const webhookProviders = ['github', 'gitlab', 'gitea', 'generic'] as const;
export type WebhookProvider = (typeof webhookProviders)[number];

export type WebhookVerdict =
  | { outcome: 'accepted'; branch: string | undefined; reason: string }
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'rejected'; status: 401 | 400; reason: string };

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  // timingSafeEqual needs equal lengths; compare against itself to spend the same time.
  return x.length === y.length ? timingSafeEqual(x, y) : (timingSafeEqual(x, x), false);
}

function hmacHex(secret: string, body: Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** Checks the provider's signature over the exact body bytes, in constant time. */
export function verifySignature(provider: WebhookProvider, headers: Record<string, string | string[] | undefined>, body: Buffer, secret: string): string | undefined {
  const header = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  switch (provider) {
    case 'github': {
      const sig = header('x-hub-signature-256');
      if (!sig) return 'missing X-Hub-Signature-256 header';
      return safeEqual(sig, `sha256=${hmacHex(secret, body)}`) ? undefined : 'X-Hub-Signature-256 does not match the body';
    }
    case 'gitea': {
      const sig = header('x-gitea-signature');
      if (!sig) return 'missing X-Gitea-Signature header';
      return safeEqual(sig, hmacHex(secret, body)) ? undefined : 'X-Gitea-Signature does not match the body';
    }
    case 'generic': {
      const sig = header('x-signature');
      if (!sig) return 'missing X-Signature header';
      return safeEqual(sig, `sha256=${hmacHex(secret, body)}`) ? undefined : 'X-Signature does not match the body';
    }
    case 'gitlab': {
      const token = header('x-gitlab-token');
      if (!token) return 'missing X-Gitlab-Token header';
      return safeEqual(token, secret) ? undefined : 'X-Gitlab-Token is wrong';
    }
  }
}

const zeroSha = /^0+$/;

/** The event a provider's header names, lower-cased: push, ping, tag_push, …; undefined when no header says. */
export function eventName(provider: WebhookProvider, headers: Record<string, string | string[] | undefined>): string | undefined {
  const name = { github: 'x-github-event', gitea: 'x-gitea-event', gitlab: 'x-gitlab-event', generic: 'x-event' }[provider];
  const v = headers[name];
  const value = Array.isArray(v) ? v[0] : v;
  return value?.trim().toLowerCase().replace(/ hook$/, '').replace(/\s+/g, '_');
}

export interface PushFacts {
  ref: string | undefined;
  /** The push removed the ref (GitHub `deleted`, or an all-zero `after`). */
  deleted: boolean;
}

/** The ref a push payload names and whether it was a deletion; undefined for a body that is not a JSON object. */
export function pushFacts(body: Buffer): PushFacts | undefined {
  try {
    const payload = JSON.parse(body.toString('utf8')) as { ref?: unknown; deleted?: unknown; after?: unknown } | null;
    if (!payload || typeof payload !== 'object') return undefined;
    const ref = typeof payload.ref === 'string' ? payload.ref : undefined;
    return { ref, deleted: payload.deleted === true || (typeof payload.after === 'string' && zeroSha.test(payload.after)) };
  } catch {
    return undefined;
  }
}

/** The branch a push payload names (refs/heads/<branch>), if any. */
export function pushedBranch(body: Buffer): string | undefined {
  const ref = pushFacts(body)?.ref;
  return ref?.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
}

/**
 * Whether a signed request is a push to the followed branch. Pings, tag
 * pushes, deletions and other events are ignored (answered 2xx, no remote
 * query). A request that names no event and no ref (a bare generic trigger)
 * still counts as "something moved".
 */
export function pushFilter(provider: WebhookProvider, headers: Record<string, string | string[] | undefined>, body: Buffer, branch: string): { trigger: true; branch: string | undefined } | { trigger: false; reason: string } {
  const event = eventName(provider, headers);
  if (event !== undefined && event !== 'push') return { trigger: false, reason: `${event} event, not a push` };
  const facts = pushFacts(body);
  const ref = facts?.ref;
  if (ref !== undefined && !ref.startsWith('refs/heads/')) return { trigger: false, reason: `push of ${ref.startsWith('refs/tags/') ? 'tag' : 'ref'} ${ref}, not a branch` };
  const pushed = ref?.slice('refs/heads/'.length);
  if (pushed !== undefined && pushed !== branch) return { trigger: false, reason: `push to branch ${pushed}, following ${branch}` };
  if (facts?.deleted) return { trigger: false, reason: `deletion of ${ref ?? 'a ref'}` };
  return { trigger: true, branch: pushed };
}

/**
 * Decides what a webhook request means: rejected (bad or missing signature,
 * no secret configured), ignored (not a push to the followed branch), or
 * accepted. A webhook only ever triggers a fetch: the repo stays the only source of truth.
 */
export function judgeWebhook(provider: WebhookProvider, headers: Record<string, string | string[] | undefined>, body: Buffer, secret: string | undefined, branch: string): WebhookVerdict {
  if (!secret) return { outcome: 'rejected', status: 401, reason: 'no webhook secret is configured (STAGECOACH_WEBHOOK_SECRET): webhooks are refused' };
  const bad = verifySignature(provider, headers, body, secret);
  if (bad) return { outcome: 'rejected', status: 401, reason: bad };
  const push = pushFilter(provider, headers, body, branch);
  if (!push.trigger) return { outcome: 'ignored', reason: push.reason };
  return { outcome: 'accepted', branch: push.branch, reason: push.branch ? `push to ${push.branch}` : 'signature valid (no branch in payload)' };
}
