/** A parsed `WWW-Authenticate` challenge (RFC 7235), as registries send it on 401. */
export interface Challenge {
  scheme: 'bearer' | 'basic' | 'other';
  params: Record<string, string>;
}

/**
 * Parses `Bearer realm="https://auth.example.com/token",service="registry",scope="repository:app:pull"`.
 * Only the first challenge is read: registries send one.
 */
export function parseChallenge(header: string | null | undefined): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*([A-Za-z][A-Za-z0-9_-]*)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const name = match[1]!.toLowerCase();
  const scheme = name === 'bearer' ? 'bearer' : name === 'basic' ? 'basic' : 'other';
  const params: Record<string, string> = {};
  const rest = match[2] ?? '';
  const param = /([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/gy;
  let m: RegExpExecArray | null;
  while ((m = param.exec(rest)) !== null && m[0] !== '') {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return { scheme, params };
}

/** The next page of a paginated list, from `Link: </v2/app/tags/list?last=x&n=100>; rel="next"`. */
export function nextLink(header: string | null | undefined, base: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/s.exec(part);
    if (m && /\brel\s*=\s*"?next"?/i.test(m[2]!)) return new URL(m[1]!, base).toString();
  }
  return undefined;
}

/** `Retry-After` as milliseconds: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now: number): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
