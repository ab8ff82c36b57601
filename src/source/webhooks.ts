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

/** The branch a push payload names (refs/heads/<branch>), if any. */
export function pushedBranch(body: Buffer): string | undefined {
  try {
    const payload = JSON.parse(body.toString('utf8')) as { ref?: unknown };
    return typeof payload.ref === 'string' && payload.ref.startsWith('refs/heads/') ? payload.ref.slice('refs/heads/'.length) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Decides what a webhook request means: rejected (bad or missing signature,
 * no secret configured), ignored (another branch), or accepted. A webhook only
 * ever triggers a fetch: the repo stays the only source of truth.
 */
export function judgeWebhook(provider: WebhookProvider, headers: Record<string, string | string[] | undefined>, body: Buffer, secret: string | undefined, branch: string): WebhookVerdict {
  if (!secret) return { outcome: 'rejected', status: 401, reason: 'no webhook secret is configured (STAGECOACH_WEBHOOK_SECRET): webhooks are refused' };
  const bad = verifySignature(provider, headers, body, secret);
  if (bad) return { outcome: 'rejected', status: 401, reason: bad };
  const pushed = pushedBranch(body);
  if (pushed !== undefined && pushed !== branch) return { outcome: 'ignored', reason: `push to branch ${pushed}, following ${branch}` };
  return { outcome: 'accepted', branch: pushed, reason: pushed ? `push to ${pushed}` : 'signature valid (no branch in payload)' };
}
