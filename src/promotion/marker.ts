import { stringify } from 'yaml';
import type { TestResult } from '../verify/types.js';

export interface MarkerService {
  image: string;
  digest: string | null;
  imageId: string | null;
}

/** promotions/<env>.yaml: what ran at which revision, and how every test went. */
export interface PromotionMarker {
  apiVersion: 'stagecoach/v1';
  kind: 'PromotionMarker';
  environment: string;
  revision: string;
  result: 'passed' | 'failed';
  startedAt: string;
  finishedAt: string;
  trigger: string;
  services: Record<string, MarkerService>;
  tests: { name: string; kind: string; result: string; durationMs: number; attempts: number; message: string }[];
}

export const trailerKeys = {
  environment: 'Stagecoach-Environment',
  revision: 'Stagecoach-Revision',
  result: 'Stagecoach-Result',
  image: 'Stagecoach-Image',
} as const;

export function markerPath(env: string): string {
  return `promotions/${env}.yaml`;
}

export function buildMarker(input: { environment: string; revision: string; startedAt: Date; finishedAt: Date; trigger: string; services: Record<string, MarkerService>; tests: readonly TestResult[] }): PromotionMarker {
  const passed = input.tests.every((t) => t.result === 'passed');
  return {
    apiVersion: 'stagecoach/v1',
    kind: 'PromotionMarker',
    environment: input.environment,
    revision: input.revision,
    result: passed ? 'passed' : 'failed',
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    trigger: input.trigger,
    services: input.services,
    tests: input.tests.map((t) => ({ name: t.name, kind: t.kind, result: t.result, durationMs: t.durationMs, attempts: t.attempts, message: t.message })),
  };
}

export function markerYaml(marker: PromotionMarker): string {
  return `# Written by stagecoach after verifying ${marker.environment}; do not edit.\n# yaml-language-server: $schema=../schemas/promotion-marker.schema.json\n${stringify(marker, { lineWidth: 0 })}`;
}

/** `testing: passed 3/3 tests at 1a2b3c4`, a body listing the failures, and trailers anyone can query with git log. */
export function markerCommitMessage(marker: PromotionMarker): string {
  const passed = marker.tests.filter((t) => t.result === 'passed').length;
  const subject = `${marker.environment}: ${marker.result} ${passed}/${marker.tests.length} tests at ${marker.revision.slice(0, 7)}`;
  const body = marker.tests.map((t) => `- ${t.name}: ${t.result} (${t.message})`).join('\n');
  const images = Object.entries(marker.services).map(([name, s]) => `${trailerKeys.image}: ${name} ${s.image}${s.digest ? ` ${s.digest}` : ''}`);
  const trailers = [`${trailerKeys.environment}: ${marker.environment}`, `${trailerKeys.revision}: ${marker.revision}`, `${trailerKeys.result}: ${marker.result}`, ...images];
  return `${subject}\n\n${body || '(no tests configured)'}\n\n${trailers.join('\n')}\n`;
}

export interface MarkerTrailers {
  environment: string;
  revision: string;
  result: string;
  images: { service: string; image: string; digest: string | null }[];
}

/** Reads stagecoach trailers from `Key: value` lines (git's %(trailers:only,unfold)). */
export function parseTrailers(text: string): MarkerTrailers | undefined {
  const values = (key: string) => text.split('\n').filter((l) => l.startsWith(`${key}: `)).map((l) => l.slice(key.length + 2).trim());
  const [environment] = values(trailerKeys.environment);
  const [revision] = values(trailerKeys.revision);
  const [result] = values(trailerKeys.result);
  if (!environment || !revision || !result) return undefined;
  const images = values(trailerKeys.image).map((v) => {
    const [service = '', image = '', digest] = v.split(' ');
    return { service, image, digest: digest ?? null };
  });
  return { environment, revision, result, images };
}
