import type { NotificationContext, NotificationEvent, NotificationKind } from './events.js';
import { forgeStatusRequest } from './forge-status.js';
import type { ForgeKind } from './forge-status.js';
import type { OutgoingRequest } from './http-port.js';
import { slackRequest } from './slack.js';
import { webhookRequest } from './webhook.js';

export const sinkTypes = ['webhook', 'slack', 'github', 'gitea', 'gitlab'] as const;
export type SinkType = (typeof sinkTypes)[number];

interface SinkCommon {
  /** Names the sink in logs and metrics (never its URL: a Slack URL is a secret). */
  name: string;
  /** Events this sink receives; all when the operator named none. */
  events: readonly NotificationKind[];
  /** Environments this sink hears about; undefined = all. */
  environments: readonly string[] | undefined;
}

export type SinkSettings = SinkCommon &
  ({ type: 'webhook'; url: string; secret: string } | { type: 'slack'; url: string } | { type: ForgeKind; baseUrl: string; repository: string; token: string });

export interface NotificationSettings {
  pageUrl: string | undefined;
  /** Deliveries waiting per sink; beyond it the oldest is dropped (and counted). */
  queueSize: number;
  retry: { attempts: number; initialDelayMs: number; maxDelayMs: number };
  sinks: SinkSettings[];
}

export const defaultNotificationSettings: Omit<NotificationSettings, 'sinks' | 'pageUrl'> = {
  queueSize: 1000,
  retry: { attempts: 10, initialDelayMs: 1_000, maxDelayMs: 5 * 60_000 },
};

export function sinkWants(sink: SinkSettings, event: NotificationEvent): boolean {
  return sink.events.includes(event.kind) && (sink.environments === undefined || sink.environments.includes(event.environment));
}

/** The request a sink sends for an event, or null when this sink has nothing to say about it. Pure. */
export function sinkRequest(sink: SinkSettings, event: NotificationEvent, ctx: NotificationContext, id: string): OutgoingRequest | null {
  switch (sink.type) {
    case 'webhook':
      return webhookRequest(sink.url, sink.secret, event, ctx, id);
    case 'slack':
      return slackRequest(sink.url, event, ctx);
    default:
      return forgeStatusRequest({ forge: sink.type, baseUrl: sink.baseUrl, repository: sink.repository, token: sink.token }, event, ctx);
  }
}
