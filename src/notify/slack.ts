import type { NotificationContext, NotificationEvent, NotificationKind } from './events.js';
import type { OutgoingRequest } from './http-port.js';

const marks: Record<NotificationKind, string> = {
  deploy: ':rocket:',
  rollback: ':rewind:',
  'verification.passed': ':white_check_mark:',
  'verification.failed': ':x:',
  block: ':no_entry:',
  proposal: ':inbox_tray:',
};

/** Slack's three control characters; text from the repo must not become mentions or links. */
export const slackEscape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const maxReasons = 5;

/** A Slack-compatible incoming-webhook message (Slack, Mattermost, Rocket.Chat read `text`). */
export function slackText(event: NotificationEvent, ctx: NotificationContext): string {
  const lines = [`${marks[event.kind]} *${slackEscape(event.summary)}*`];
  for (const reason of event.reasons.slice(0, maxReasons)) lines.push(`• ${slackEscape(reason)}`);
  if (event.reasons.length > maxReasons) lines.push(`• … and ${event.reasons.length - maxReasons} more`);
  const where = `${slackEscape(ctx.repo)} @ ${slackEscape(ctx.branch)}`;
  lines.push(ctx.pageUrl ? `${where} · <${ctx.pageUrl}|pipeline>` : where);
  return lines.join('\n');
}

export function slackRequest(url: string, event: NotificationEvent, ctx: NotificationContext): OutgoingRequest {
  return { url, headers: { 'content-type': 'application/json', 'user-agent': 'stagecoach' }, body: JSON.stringify({ text: slackText(event, ctx) }) };
}
