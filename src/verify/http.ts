import { withSafeRegex } from '../policy/regex.js';
import { stableStringify } from '../manifest/hash.js';
import type { HttpTest } from '../manifest/types.js';
import { redactUrl } from '../source/redact.js';
import { excerpt, kindOf } from './excerpt.js';
import { readJsonPath } from './json-path.js';
import type { Attempt } from './types.js';

function explainFetchError(error: unknown, url: string, timeoutMs: number): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer from ${url} within ${timeoutMs}ms`;
  const code = e.cause?.code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    const host = new URL(url).hostname;
    return `cannot resolve ${host} (${code}): a service name only resolves when the daemon shares the environment's network; use a published port otherwise`;
  }
  return `cannot reach ${url}: ${code ?? e.cause?.message ?? e.message}`;
}

/** One HTTP request and the checks on its answer. */
export async function httpAttempt(test: HttpTest, timeoutMs: number): Promise<Attempt> {
  let res: Response;
  let body: string;
  try {
    res = await fetch(test.url, { method: test.method, headers: test.headers, body: test.body ?? undefined, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    body = await res.text();
  } catch (error) {
    return { result: 'failed', message: explainFetchError(error, redactUrl(test.url), timeoutMs) };
  }
  // What the answer said stays out of the result (it lands in markers and the API): only what was expected, and a short redacted excerpt.
  const from = `from ${test.method} ${redactUrl(test.url)}`;
  const { expect } = test;
  if (res.status !== expect.status) return { result: 'failed', message: `expected ${expect.status}, got ${res.status} ${from}` };
  if (expect.body !== null && !body.includes(expect.body)) {
    return { result: 'failed', message: `expected the body to contain ${JSON.stringify(expect.body)} ${from}; it differed, beginning ${excerpt(body)}` };
  }
  if (expect.bodyRegex !== null && !withSafeRegex(expect.bodyRegex, {}, (re) => re.test(body))) {
    return { result: 'failed', message: `expected the body to match /${expect.bodyRegex}/ ${from}; it differed, beginning ${excerpt(body)}` };
  }
  const paths = Object.entries(expect.json);
  if (paths.length > 0) {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return { result: 'failed', message: `expected a JSON body ${from}; it begins ${excerpt(body)}` };
    }
    for (const [path, want] of paths) {
      const got = readJsonPath(json, path);
      if (stableStringify(got) !== stableStringify(want)) return { result: 'failed', message: `expected ${path} = ${stableStringify(want)} ${from}; it differed (got ${kindOf(got)})` };
    }
  }
  return { result: 'passed', message: `${res.status} ${from}` };
}
