import { createHmac } from 'node:crypto';
import type { NotificationContext, NotificationEvent } from './events.js';
import type { OutgoingRequest } from './http-port.js';

/** `X-Stagecoach-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the sink's secret>` */
export const signatureHeader = 'X-Stagecoach-Signature';
export const eventHeader = 'X-Stagecoach-Event';
export const deliveryHeader = 'X-Stagecoach-Delivery';

/** The generic webhook's JSON body; schemas/notification.schema.json describes it. */
export function webhookPayload(event: NotificationEvent, ctx: NotificationContext, id: string): Record<string, unknown> {
  return {
    apiVersion: 'stagecoach/v1',
    kind: 'Notification',
    id,
    event: event.kind,
    at: event.at,
    repo: ctx.repo,
    branch: ctx.branch,
    environment: event.environment,
    revision: event.revision,
    summary: event.summary,
    services: event.services,
    reasons: event.reasons,
    ...(event.tests ? { tests: event.tests } : {}),
    ...(event.marker ? { marker: event.marker } : {}),
    ...(event.proposal ? { proposal: event.proposal } : {}),
    ...(ctx.pageUrl ? { pageUrl: ctx.pageUrl } : {}),
  };
}

export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function webhookRequest(url: string, secret: string, event: NotificationEvent, ctx: NotificationContext, id: string): OutgoingRequest {
  const body = JSON.stringify(webhookPayload(event, ctx, id));
  return {
    url,
    body,
    headers: { 'content-type': 'application/json', 'user-agent': 'stagecoach', [signatureHeader]: signBody(body, secret), [eventHeader]: event.kind, [deliveryHeader]: id },
  };
}
