import type { LoadedEnvironment } from '../manifest/types.js';
import { globMatch } from './glob.js';
import type { ResolvedGrant } from './types.js';

const loopback = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function endpointHost(docker: string | null): string | undefined {
  if (!docker || docker.startsWith('unix://')) return undefined;
  try {
    return new URL(docker).hostname;
  } catch {
    return undefined;
  }
}

/**
 * Why an HTTP test may not reach a URL, or undefined when it may. Allowed
 * without settings: the environment's own network (its service names, any
 * port) and the host ports it publishes (on loopback or its engine's host);
 * anything else only through the operator's httpTargets.
 */
export function httpTargetProblem(url: string, env: LoadedEnvironment, grant: ResolvedGrant): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `is not a URL (got ${JSON.stringify(url.slice(0, 100))})`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `must be an http:// or https:// URL (got ${parsed.protocol})`;
  const host = parsed.hostname.toLowerCase();
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  if (env.services.some((s) => s.name === host)) return undefined;
  const published = env.services.flatMap((s) => s.spec.ports.filter((p) => p.published !== null && p.protocol === 'tcp').map((p) => p.published!));
  const ownHosts = new Set([...loopback, ...[endpointHost(env.environment.target.docker)].filter((h): h is string => h !== undefined)]);
  if (ownHosts.has(host) && published.includes(port)) return undefined;
  const shownHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  if (grant.httpTargets.some((g) => globMatch(g.toLowerCase(), `${shownHost}:${port}`))) return undefined;
  return `HTTP test target ${shownHost}:${port} is neither published by environment ${env.name} nor on its network, and the operator does not allow it (allow it in the daemon settings: ${grant.setting}.httpTargets; allowed now: ${grant.httpTargets.join(', ') || 'none'})`;
}
