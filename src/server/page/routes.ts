import { pipelineJs } from './client.js';
import { assetPaths, pipelinePath, pipelineUpdate, renderPage } from './render.js';
import { pipelineCss } from './styles.js';
import type { PageStatus } from './view.js';

export interface PageResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Only the daemon's own assets; nothing inline, nothing from elsewhere (a repo string can never run as script). */
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const answer = (type: string, body: string, cache = 'no-store'): PageResponse => ({
  status: 200,
  headers: { 'content-type': type, 'cache-control': cache, 'content-security-policy': csp, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' },
  body,
});

/** The page's routes: GET /, its poll endpoint and its two assets. undefined for any other request. */
export function pageRoute(method: string, pathname: string, status: () => PageStatus): PageResponse | undefined {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  if (pathname === '/') return answer('text/html; charset=utf-8', renderPage(status()));
  if (pathname === pipelinePath) return answer('application/json; charset=utf-8', JSON.stringify(pipelineUpdate(status())));
  if (pathname === assetPaths.css) return answer('text/css; charset=utf-8', pipelineCss, 'public, max-age=300');
  if (pathname === assetPaths.js) return answer('text/javascript; charset=utf-8', pipelineJs, 'public, max-age=300');
  return undefined;
}
