import type { NotificationContext, NotificationEvent, NotificationKind } from './events.js';
import type { OutgoingRequest } from './http-port.js';

export const forgeKinds = ['github', 'gitea', 'gitlab'] as const;
export type ForgeKind = (typeof forgeKinds)[number];

export interface ForgeTarget {
  forge: ForgeKind;
  /** API base: https://api.github.com, https://gitea.example.com, https://gitlab.com/api/v4. */
  baseUrl: string;
  /** owner/name (GitHub, Gitea), or a GitLab project id or path. */
  repository: string;
  token: string;
}

export const defaultBaseUrls: Record<ForgeKind, string | undefined> = { github: 'https://api.github.com', gitea: undefined, gitlab: 'https://gitlab.com/api/v4' };

type Neutral = 'pending' | 'success' | 'failure' | 'error';

/** Which events become a commit status: deploy → pending until the tests say otherwise. */
const neutralState: Partial<Record<NotificationKind, Neutral>> = {
  deploy: 'pending',
  'verification.passed': 'success',
  'verification.failed': 'failure',
  rollback: 'error',
};

const gitlabState: Record<Neutral, string> = { pending: 'running', success: 'success', failure: 'failed', error: 'failed' };

const trimTo = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const join = (base: string, path: string) => `${base.replace(/\/+$/, '')}${path}`;
const ownerRepo = (repository: string) => repository.split('/').map(encodeURIComponent).join('/');

/**
 * The commit status for an event on the commit it concerns, or null when the
 * event has no status (block, proposal) or no commit. Context: stagecoach/<env>.
 */
export function forgeStatusRequest(target: ForgeTarget, event: NotificationEvent, ctx: NotificationContext): OutgoingRequest | null {
  const state = neutralState[event.kind];
  if (!state || !event.revision || !/^[0-9a-f]{7,64}$/.test(event.revision)) return null;
  const context = `stagecoach/${event.environment}`;
  // GitHub caps the description at 140 characters.
  const description = trimTo(event.summary, 140);
  const targetUrl = ctx.pageUrl;
  const sha = event.revision;
  const json = { 'content-type': 'application/json', 'user-agent': 'stagecoach', accept: 'application/json' };
  switch (target.forge) {
    case 'github':
      return {
        url: join(target.baseUrl, `/repos/${ownerRepo(target.repository)}/statuses/${sha}`),
        headers: { ...json, accept: 'application/vnd.github+json', authorization: `Bearer ${target.token}` },
        body: JSON.stringify({ state, context, description, ...(targetUrl ? { target_url: targetUrl } : {}) }),
      };
    case 'gitea':
      return {
        url: join(target.baseUrl, `/api/v1/repos/${ownerRepo(target.repository)}/statuses/${sha}`),
        headers: { ...json, authorization: `token ${target.token}` },
        body: JSON.stringify({ state, context, description, ...(targetUrl ? { target_url: targetUrl } : {}) }),
      };
    case 'gitlab':
      return {
        url: join(target.baseUrl, `/projects/${encodeURIComponent(target.repository)}/statuses/${sha}`),
        headers: { ...json, 'private-token': target.token },
        body: JSON.stringify({ state: gitlabState[state], name: context, description, ...(targetUrl ? { target_url: targetUrl } : {}) }),
      };
  }
}
