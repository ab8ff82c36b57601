import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDuration } from '../manifest/duration.js';
import type { ParsedDocument } from '../manifest/parse.js';
import type { Problem } from '../manifest/problem.js';
import { toPointer } from '../manifest/problem.js';
import { notificationKinds } from '../notify/events.js';
import type { NotificationKind } from '../notify/events.js';
import { defaultBaseUrls } from '../notify/forge-status.js';
import { defaultNotificationSettings } from '../notify/sinks.js';
import type { NotificationSettings, SinkSettings, SinkType } from '../notify/sinks.js';

type SecretRef = { file?: string; env?: string };

/** The `notifications` section as the schema already accepted it. */
export interface RawNotifications {
  pageUrl?: string;
  queueSize?: number;
  retry?: { attempts?: number; initialDelay?: string; maxDelay?: string };
  sinks?: RawSink[];
}

interface RawSink {
  name?: string;
  type: SinkType;
  url?: string | SecretRef;
  secret?: SecretRef;
  token?: SecretRef;
  repository?: string;
  events?: NotificationKind[];
  environments?: string[];
}

/** Fields each sink type needs, and the ones it has no use for (refused rather than silently ignored). */
const needs: Record<SinkType, { required: (keyof RawSink)[]; unused: (keyof RawSink)[] }> = {
  webhook: { required: ['url', 'secret'], unused: ['token', 'repository'] },
  slack: { required: ['url'], unused: ['secret', 'token', 'repository'] },
  github: { required: ['repository', 'token'], unused: ['secret'] },
  gitea: { required: ['url', 'repository', 'token'], unused: ['secret'] },
  gitlab: { required: ['repository', 'token'], unused: ['secret'] },
};

/**
 * Turns the validated `notifications` section into resolved sink settings:
 * secrets read from their files or variables (never printed), URLs checked,
 * per-type fields required or refused. Problems are located in the settings
 * file like schema problems. Returns undefined when nothing is configured.
 */
export function loadNotifications(raw: RawNotifications | undefined, doc: ParsedDocument | undefined, env: NodeJS.ProcessEnv, cwd: string, problems: Problem[]): NotificationSettings | undefined {
  if (!raw || !doc) return undefined;
  const at = (segments: (string | number)[], message: string, where: 'key' | 'value' = 'value') => {
    const full = ['notifications', ...segments];
    problems.push({ file: doc.file, ...doc.locate(full, where), path: toPointer(full), message });
  };
  const secret = (ref: SecretRef, segments: (string | number)[]): string | undefined => {
    if (ref.env !== undefined) {
      const value = env[ref.env];
      if (!value) at(segments, `names the environment variable ${ref.env}, which is not set`);
      return value || undefined;
    }
    const file = path.resolve(cwd, ref.file!);
    try {
      const value = readFileSync(file, 'utf8').trim();
      if (!value) at(segments, `names ${file}, which is empty`);
      return value || undefined;
    } catch (error) {
      at(segments, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      return undefined;
    }
  };
  const httpUrl = (value: string, segments: (string | number)[], fromSecret: boolean): string | undefined => {
    let parsed: URL | undefined;
    try {
      parsed = new URL(value);
    } catch {
      parsed = undefined;
    }
    if (parsed && (parsed.protocol === 'http:' || parsed.protocol === 'https:')) return value;
    at(segments, `must be an http:// or https:// URL${fromSecret ? ' (the value read from the secret is not shown)' : ` (got ${JSON.stringify(value)})`}`);
    return undefined;
  };

  const names = new Set<string>();
  const sinks: SinkSettings[] = [];
  (raw.sinks ?? []).forEach((s, i) => {
    const name = s.name ?? `${s.type}-${i}`;
    if (names.has(name)) at(['sinks', i, 'name'], `${JSON.stringify(name)} is the name of an earlier sink; names must be unique`);
    names.add(name);
    let ok = true;
    for (const field of needs[s.type].required) {
      if (s[field] === undefined) {
        at(['sinks', i, field], `is required for a ${s.type} sink`);
        ok = false;
      }
    }
    for (const field of needs[s.type].unused) {
      if (s[field] !== undefined) {
        at(['sinks', i, field], `is not used by a ${s.type} sink`, 'key');
        ok = false;
      }
    }
    if (!ok) return;
    const urlSegments = ['sinks', i, 'url'];
    const rawUrl = s.url === undefined ? undefined : typeof s.url === 'string' ? s.url : secret(s.url, urlSegments);
    const url = rawUrl === undefined ? undefined : httpUrl(rawUrl, urlSegments, typeof s.url !== 'string');
    if (s.url !== undefined && url === undefined) return;
    const common = { name, events: s.events ?? notificationKinds, environments: s.environments };
    if (s.type === 'webhook') {
      const key = secret(s.secret!, ['sinks', i, 'secret']);
      if (key) sinks.push({ ...common, type: 'webhook', url: url!, secret: key });
    } else if (s.type === 'slack') {
      sinks.push({ ...common, type: 'slack', url: url! });
    } else {
      if (typeof s.url === 'object') return at(urlSegments, `is the ${s.type} API base URL: write it as a string`);
      const token = secret(s.token!, ['sinks', i, 'token']);
      const baseUrl = url ?? defaultBaseUrls[s.type]!;
      if (token) sinks.push({ ...common, type: s.type, baseUrl, repository: s.repository!, token });
    }
  });
  const duration = (value: string | undefined, field: string, fallback: number) => {
    if (value === undefined) return fallback;
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0) {
      at(['retry', field], `must be a positive duration (got ${JSON.stringify(value)})`);
      return fallback;
    }
    return ms;
  };
  const defaults = defaultNotificationSettings;
  const initialDelayMs = duration(raw.retry?.initialDelay, 'initialDelay', defaults.retry.initialDelayMs);
  const maxDelayMs = duration(raw.retry?.maxDelay, 'maxDelay', defaults.retry.maxDelayMs);
  if (maxDelayMs < initialDelayMs) at(['retry', 'maxDelay'], `must not be shorter than initialDelay (got ${raw.retry?.maxDelay ?? '5m'} < ${raw.retry?.initialDelay ?? '1s'})`);
  return {
    pageUrl: raw.pageUrl,
    queueSize: raw.queueSize ?? defaults.queueSize,
    retry: { attempts: raw.retry?.attempts ?? defaults.retry.attempts, initialDelayMs, maxDelayMs },
    sinks,
  };
}
