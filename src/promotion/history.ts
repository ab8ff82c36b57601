import type { GitReader } from '../git/ports.js';
import { markerPath, parseTrailers } from './marker.js';

export const historyKinds = ['marker', 'rollback', 'promotion', 'change'] as const;
export type HistoryKind = (typeof historyKinds)[number];

export interface HistoryEntry {
  commit: string;
  at: string;
  author: string;
  subject: string;
  kind: HistoryKind;
  /** For markers: the deployed revision and the result. */
  revision?: string;
  result?: string;
  tests?: string;
}

/** Deploy-relevant commits of one environment, newest first: its manifest changes, promotions, rollbacks and markers. */
export async function environmentHistory(git: Pick<GitReader, 'log'>, env: string, limit = 50, revision = 'HEAD'): Promise<HistoryEntry[]> {
  const entries = await git.log({ revision, paths: [markerPath(env), `environments/${env}`], limit });
  return entries.map(({ commit, authorDate: at, author: name, email, subject, trailers }) => {
    const author = `${name} <${email}>`;
    const marker = parseTrailers(trailers);
    if (marker && marker.environment === env) {
      const tests = /(\d+\/\d+) tests/.exec(subject)?.[1];
      return { commit, at, author, subject, kind: 'marker' as const, revision: marker.revision, result: marker.result, ...(tests ? { tests } : {}) };
    }
    const kind: HistoryKind = /^Stagecoach-Rollback-To: /m.test(trailers) ? 'rollback' : /^Stagecoach-Promote-To: /m.test(trailers) ? 'promotion' : 'change';
    return { commit, at, author, subject, kind };
  });
}
