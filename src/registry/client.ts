import { createHash } from 'node:crypto';
import { RegistryError } from '../errors.js';
import { nextLink, parseChallenge, retryAfterMs } from './challenge.js';
import type { Challenge } from './challenge.js';
import type { RegistryCredentials } from './credentials.js';
import type { CredentialResolver } from './host-credentials.js';
import { registryTarget } from './target.js';
import type { RegistryTarget } from './target.js';

/** The manifest types a tag may point at; a multi-arch tag answers with its index, whose digest is what `docker pull` records. */
export const manifestAccept = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface RegistryClientOptions {
  credentials: CredentialResolver;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Longest `Retry-After` the client waits out; a longer one fails (transient) so the next poll tries again. */
  maxRetryAfterMs?: number;
  /** Tries per request for 429 and 5xx answers. */
  maxAttempts?: number;
  /** Bound on tag-list pages followed through `Link`. */
  maxPages?: number;
  /** Tags asked for per page (`n`); the registry may send fewer and a `Link` to the rest. */
  pageSize?: number;
  /** Per HTTP request, including the token request. */
  timeoutMs?: number;
}

/** A 429 whose `Retry-After` was longer than the client waits: the caller should not ask this registry again before then. */
export class RateLimitedError extends RegistryError {
  constructor(message: string, readonly retryAfterMs: number) {
    super(message, { transient: true });
  }
}

interface Session {
  authorization?: string;
  credentials?: RegistryCredentials;
}

/**
 * A client for the OCI distribution API: tag lists and manifest digests,
 * with the bearer-token and basic challenges, credentials from the daemon
 * host, and 429/`Retry-After` respected. Every failure is a RegistryError
 * naming registry and repository, transient only when trying later may help.
 */
export class RegistryClient {
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly tokens = new Map<string, { authorization: string; expiresAt: number }>();

  constructor(private readonly options: RegistryClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.now = options.now ?? Date.now;
  }

  /** Every tag of the image's repository, following `Link` pagination. */
  async listTags(image: string): Promise<string[]> {
    const target = registryTarget(image);
    const tags: string[] = [];
    let url: string | undefined = `${target.baseUrl}/v2/${target.repository}/tags/list?n=${this.options.pageSize ?? 1000}`;
    for (let page = 0; url !== undefined; page++) {
      if (page >= (this.options.maxPages ?? 100)) throw this.error(target, `tag list has more than ${this.options.maxPages ?? 100} pages; stopped reading`, false);
      const res = await this.request(target, url, 'GET', 'application/json', 'list tags');
      const body = (await res.json().catch(() => undefined)) as { tags?: unknown } | undefined;
      if (!body || (body.tags !== null && body.tags !== undefined && !Array.isArray(body.tags))) throw this.error(target, `tag list is not {"tags": [...]} JSON`, false);
      for (const t of (body.tags as unknown[] | null | undefined) ?? []) if (typeof t === 'string') tags.push(t);
      url = nextLink(res.headers.get('link'), url);
    }
    return tags;
  }

  /** The registry's digest of a tag (its index for a multi-arch image), as `docker pull` records it. */
  async manifestDigest(image: string): Promise<string> {
    const target = registryTarget(image);
    const reference = target.digest ?? target.tag ?? 'latest';
    const url = `${target.baseUrl}/v2/${target.repository}/manifests/${reference}`;
    const head = await this.request(target, url, 'HEAD', manifestAccept, `read manifest ${reference}`);
    const digest = head.headers.get('docker-content-digest');
    if (digest && /^sha256:[a-f0-9]{64}$/.test(digest)) return digest;
    // Some registries omit the header on HEAD: the digest is then the hash of the manifest bytes.
    const res = await this.request(target, url, 'GET', manifestAccept, `read manifest ${reference}`);
    return `sha256:${createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex')}`;
  }

  private async request(target: RegistryTarget, url: string, method: 'GET' | 'HEAD', accept: string, what: string): Promise<Response> {
    const session: Session = { authorization: this.cachedToken(target) };
    const maxAttempts = this.options.maxAttempts ?? 4;
    let authenticated = false;
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = { accept, 'user-agent': 'stagecoach' };
      if (session.authorization) headers.authorization = session.authorization;
      let res: Response;
      try {
        res = await this.fetch(url, { method, headers, redirect: 'follow', signal: AbortSignal.timeout(this.options.timeoutMs ?? 20_000) });
      } catch (cause) {
        throw this.error(target, `cannot ${what}: ${networkReason(cause)}; is the registry running and is ${target.host} the right host and port?`, true, cause);
      }
      if (res.status === 401 && !authenticated) {
        await res.body?.cancel();
        authenticated = true;
        session.authorization = await this.authorize(target, parseChallenge(res.headers.get('www-authenticate')), session);
        continue;
      }
      if (res.ok) return res;
      await res.body?.cancel().catch(() => undefined);
      if (res.status === 429 || res.status >= 500) {
        const wait = res.status === 429 ? (retryAfterMs(res.headers.get('retry-after'), this.now()) ?? 1000 * 2 ** (attempt - 1)) : 500 * 2 ** (attempt - 1);
        const max = this.options.maxRetryAfterMs ?? 60_000;
        if (attempt >= maxAttempts || wait > max) {
          const why = res.status === 429 ? `rate-limited (429, Retry-After ${Math.round(wait / 1000)} s)` : `answered ${res.status}`;
          const text = `registry ${target.host}, repository ${target.repository}: cannot ${what}: ${why} after ${attempt} tries; stagecoach tries again on the next poll`;
          if (res.status === 429) throw new RateLimitedError(text, wait);
          throw new RegistryError(text, { transient: true });
        }
        await this.sleep(wait);
        continue;
      }
      throw this.error(target, `cannot ${what}: ${explainStatus(res.status, target, session.credentials)}`, false);
    }
  }

  private async authorize(target: RegistryTarget, challenge: Challenge | undefined, session: Session): Promise<string | undefined> {
    session.credentials = await this.options.credentials(target.host).catch((cause: unknown) => {
      throw this.error(target, `cannot read credentials: ${(cause as Error).message}`, (cause as { transient?: boolean }).transient === true, cause);
    });
    const creds = session.credentials;
    if (challenge?.scheme === 'basic' || challenge === undefined) {
      if (creds?.kind !== 'basic') throw this.error(target, `needs a login and the daemon host has none for it; run \`docker login ${target.host}\` on the daemon host (or add a credHelpers entry)`, false);
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) throw this.error(target, `asks for an authentication scheme stagecoach does not speak (${challenge.scheme})`, false);
    const scope = challenge.params.scope ?? `repository:${target.repository}:pull`;
    const token = await this.fetchToken(target, challenge.params.realm, challenge.params.service, scope, creds);
    this.tokens.set(`${target.host}|${target.repository}`, token);
    return token.authorization;
  }

  private async fetchToken(target: RegistryTarget, realm: string, service: string | undefined, scope: string, creds: RegistryCredentials | undefined): Promise<{ authorization: string; expiresAt: number }> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch (cause) {
      throw this.error(target, `sent a token realm that is not a URL (${realm})`, false, cause);
    }
    const init: RequestInit = { method: 'GET', headers: { 'user-agent': 'stagecoach' }, signal: AbortSignal.timeout(this.options.timeoutMs ?? 20_000) };
    if (creds?.kind === 'identity-token') {
      // OAuth2 refresh-token grant (distribution's token spec), as the docker CLI does with an identity token.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.token, client_id: 'stagecoach', scope, ...(service ? { service } : {}) });
      Object.assign(init, { method: 'POST', body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'stagecoach' } });
    } else {
      if (service) url.searchParams.set('service', service);
      url.searchParams.set('scope', scope);
      if (creds) (init.headers as Record<string, string>).authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    let res: Response;
    try {
      res = await this.fetch(url, init);
    } catch (cause) {
      throw this.error(target, `cannot reach its token server ${url.origin}: ${networkReason(cause)}`, true, cause);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      const transient = res.status === 429 || res.status >= 500;
      const why = res.status === 401 || res.status === 403 ? `refused the credentials${creds ? ` from ${creds.source}` : ' (none on the daemon host)'}; run \`docker login ${target.host}\` on the daemon host` : `answered ${res.status}`;
      throw this.error(target, `token server ${url.origin} ${why}`, transient);
    }
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw this.error(target, `token server ${url.origin} answered without a token`, false);
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    return { authorization: `Bearer ${token}`, expiresAt: this.now() + (seconds - 5) * 1000 };
  }

  private cachedToken(target: RegistryTarget): string | undefined {
    const key = `${target.host}|${target.repository}`;
    const cached = this.tokens.get(key);
    if (!cached) return undefined;
    if (cached.expiresAt > this.now()) return cached.authorization;
    this.tokens.delete(key);
    return undefined;
  }

  private error(target: RegistryTarget, text: string, transient: boolean, cause?: unknown): RegistryError {
    return new RegistryError(`registry ${target.host}, repository ${target.repository}: ${text}`, { transient, cause });
  }
}

function explainStatus(status: number, target: RegistryTarget, creds: RegistryCredentials | undefined): string {
  if (status === 401) return creds ? `the registry refused the credentials from ${creds.source} (401); run \`docker login ${target.host}\` on the daemon host` : `the registry wants credentials and the daemon host has none (401); run \`docker login ${target.host}\` on the daemon host`;
  if (status === 403) return `access denied (403) for ${creds ? `the credentials from ${creds.source}` : 'anonymous access'}; check the account's rights to ${target.repository}`;
  if (status === 404) return `not found (404); check the image name${target.tag ? ` and the tag ${target.tag}` : ''}`;
  return `the registry answered ${status}`;
}

function networkReason(cause: unknown): string {
  const inner = (cause as { cause?: { code?: string; message?: string } }).cause;
  return inner?.code ?? inner?.message ?? (cause as Error).message ?? String(cause);
}
