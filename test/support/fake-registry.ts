// An in-memory OCI distribution API behind a fetch function, for unit tests
// of the registry client: tags, manifests, basic or bearer auth, rate limits.

export interface FakeRegistryOptions {
  auth?: { mode: 'none' } | { mode: 'basic'; user: string; password: string } | { mode: 'bearer'; user?: string; password?: string; realm: string };
  /** repository → tag → digest */
  repos: Record<string, Record<string, string>>;
  pageSize?: number;
  /** Answers to send before the real one, in order (e.g. a 429 with Retry-After). */
  queue?: { status: number; headers?: Record<string, string> }[];
  /** Omit Docker-Content-Digest on HEAD. */
  noDigestHeader?: boolean;
}

export function fakeRegistry(options: FakeRegistryOptions) {
  const requests: { method: string; url: string; authorization?: string; accept?: string }[] = [];
  const queue = [...(options.queue ?? [])];
  const auth = options.auth ?? { mode: 'none' };
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  const fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    const headers = (init.headers ?? {}) as Record<string, string>;
    const method = init.method ?? 'GET';
    requests.push({ method, url: url.toString(), authorization: headers.authorization, accept: headers.accept });
    if (auth.mode === 'bearer' && url.toString().startsWith(auth.realm)) {
      if (auth.user && headers.authorization !== basic(auth.user, auth.password ?? '')) return new Response('{"errors":[{"code":"UNAUTHORIZED"}]}', { status: 401 });
      return Response.json({ token: `tok-${url.searchParams.get('scope')}`, expires_in: 300 });
    }
    const next = queue.shift();
    if (next) return new Response(null, { status: next.status, headers: next.headers });
    const wanted = auth.mode === 'basic' ? basic(auth.user, auth.password) : auth.mode === 'bearer' ? undefined : null;
    const m = /^\/v2\/(.+)\/(tags\/list|manifests\/([^/]+))$/.exec(url.pathname);
    const repo = m?.[1] ?? '';
    if (auth.mode === 'basic' && headers.authorization !== wanted) return new Response(null, { status: 401, headers: { 'www-authenticate': 'Basic realm="fake"' } });
    if (auth.mode === 'bearer' && headers.authorization !== `Bearer tok-repository:${repo}:pull`) {
      return new Response(null, { status: 401, headers: { 'www-authenticate': `Bearer realm="${auth.realm}",service="fake",scope="repository:${repo}:pull"` } });
    }
    const tags = options.repos[repo];
    if (!m || !tags) return new Response('{"errors":[{"code":"NAME_UNKNOWN"}]}', { status: 404 });
    if (m[2] === 'tags/list') {
      const all = Object.keys(tags).sort();
      const n = options.pageSize ?? Number(url.searchParams.get('n') ?? 1000);
      const last = url.searchParams.get('last');
      const start = last ? all.indexOf(last) + 1 : 0;
      const page = all.slice(start, start + n);
      const more = start + n < all.length;
      return Response.json({ name: repo, tags: page }, { headers: more ? { link: `</v2/${repo}/tags/list?n=${n}&last=${page[page.length - 1]}>; rel="next"` } : {} });
    }
    const ref = m[3]!;
    const digest = ref.startsWith('sha256:') ? ref : tags[ref];
    if (!digest) return new Response('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', { status: 404 });
    const body = `{"manifest":"${digest}"}`;
    const h: Record<string, string> = { 'content-type': 'application/vnd.oci.image.index.v1+json' };
    if (!options.noDigestHeader) h['docker-content-digest'] = digest;
    return new Response(method === 'HEAD' ? null : body, { status: 200, headers: h });
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}
