import type { Logger } from 'pino';
import type { GitReader } from '../git/ports.js';
import { singleFlight } from '../source/deliveries.js';
import type { Metrics } from './metrics.js';

/** The remote head, one ls-remote at a time however many callers ask (they share it), each one counted; undefined when the remote cannot be reached. */
export function countedPeek(deps: { git: Pick<GitReader, 'remoteHead'>; metrics: Metrics; log: Logger }): () => Promise<string | undefined> {
  return singleFlight(async () => {
    try {
      const head = await deps.git.remoteHead();
      deps.metrics.gitQueries.inc({ result: 'ok' });
      return head;
    } catch (error) {
      deps.metrics.gitQueries.inc({ result: 'error' });
      deps.log.debug({ err: (error as Error).message }, 'cannot look for a newer revision during the rollout');
      return undefined;
    }
  });
}
