import type Docker from 'dockerode';
import type { HealthcheckSpec } from './types.js';

const NS_PER_MS = 1_000_000;

/** Engine API versions as numbers to compare: "1.41" → [1, 41]. */
function parts(version: string): [number, number] {
  const [major = '0', minor = '0'] = version.split('.');
  return [Number(major) || 0, Number(minor) || 0];
}

export function apiAtLeast(version: string, wanted: string): boolean {
  const [a, b] = parts(version);
  const [c, d] = parts(wanted);
  return a > c || (a === c && b >= d);
}

/** Healthcheck.StartInterval arrived in Engine API 1.44 (Docker 25); older engines ignore the field without a word. */
export const startIntervalApi = '1.44';

export function supportsStartInterval(apiVersion: string): boolean {
  return apiAtLeast(apiVersion, startIntervalApi);
}

/** Adds StartInterval to a create body when the engine understands it; otherwise the body is left as it was. */
export function withStartInterval(body: Docker.ContainerCreateOptions, healthcheck: HealthcheckSpec | null, apiVersion: string): Docker.ContainerCreateOptions {
  if (!healthcheck?.startIntervalMs || !body.Healthcheck || !supportsStartInterval(apiVersion)) return body;
  if (body.Healthcheck.Test?.[0] === 'NONE') return body;
  return { ...body, Healthcheck: { ...body.Healthcheck, StartInterval: healthcheck.startIntervalMs * NS_PER_MS } as Docker.HealthConfig };
}
