import { Registry } from 'prom-client';
import { createNotifyMetrics } from '../../../src/notify/metrics.js';
import type { NotifyMetrics } from '../../../src/notify/metrics.js';
import type { NotificationContext, NotificationEvent } from '../../../src/notify/events.js';
import type { NotificationSettings, SinkSettings } from '../../../src/notify/sinks.js';
import { notificationKinds } from '../../../src/notify/events.js';

export const ctx: NotificationContext = { repo: 'git://git.example.com/ops/config.git', branch: 'main', pageUrl: 'http://stagecoach.example.com:7420/' };

export const event = (over: Partial<NotificationEvent> = {}): NotificationEvent => ({
  kind: 'verification.passed',
  environment: 'qa',
  revision: '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b',
  at: '2026-11-29T16:00:00.000Z',
  summary: 'qa: passed 1/1 tests at 1a2b3c4',
  services: [{ name: 'web', image: 'busybox:1.35' }],
  reasons: [],
  tests: [{ name: 'homepage', result: 'passed', message: '200 from GET http://web:8080/' }],
  marker: { commit: '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432' },
  ...over,
});

export const webhookSink = (over: Partial<SinkSettings> = {}): SinkSettings =>
  ({ name: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/hook', secret: 'k3y', events: notificationKinds, environments: undefined, ...over }) as SinkSettings;

export const settings = (sinks: SinkSettings[], over: Partial<NotificationSettings> = {}): NotificationSettings => ({
  pageUrl: undefined,
  queueSize: 100,
  retry: { attempts: 5, initialDelayMs: 1_000, maxDelayMs: 30_000 },
  sinks,
  ...over,
});

export function metrics(): { metrics: NotifyMetrics; count: (name: 'delivered' | 'failed' | 'dropped' | 'retries', sink: string) => Promise<number> } {
  const m = createNotifyMetrics(new Registry());
  return {
    metrics: m,
    count: async (name, sink) => (await m[name].get()).values.find((v) => v.labels.sink === sink)?.value ?? 0,
  };
}

export interface LogLine {
  level: 'warn' | 'debug';
  obj: object;
  msg: string;
}

export function memoryLog(): { lines: LogLine[]; warn(obj: object, msg: string): void; debug(obj: object, msg: string): void } {
  const lines: LogLine[] = [];
  return { lines, warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }), debug: (obj, msg) => lines.push({ level: 'debug', obj, msg }) };
}
