import { gitIn } from '../source/git.js';
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
export async function environmentHistory(dir: string, env: string, limit = 50): Promise<HistoryEntry[]> {
  const out = await gitIn(dir).raw(['log', `-n${limit}`, '--format=%H%x1f%aI%x1f%an <%ae>%x1f%s%x1f%(trailers:only,unfold)%x1e', '--', markerPath(env), `environments/${env}`]);
  return out
    .split('\x1e')
    .map((r) => r.replace(/^\n/, ''))
    .filter(Boolean)
    .map((record) => {
      const [commit = '', at = '', author = '', subject = '', trailers = ''] = record.split('\x1f');
      const marker = parseTrailers(trailers);
      if (marker && marker.environment === env) {
        const tests = /(\d+\/\d+) tests/.exec(subject)?.[1];
        return { commit, at, author, subject, kind: 'marker' as const, revision: marker.revision, result: marker.result, ...(tests ? { tests } : {}) };
      }
      const kind: HistoryKind = /^Stagecoach-Rollback-To: /m.test(trailers) ? 'rollback' : /^Stagecoach-Promote-To: /m.test(trailers) ? 'promotion' : 'change';
      return { commit, at, author, subject, kind };
    });
}
