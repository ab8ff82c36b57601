import type { Logger } from 'pino';
import { capList } from '../policy/cap-list.js';
import { revisionLabel } from '../reconcile/format.js';
import { unreachablePatch } from './environment-cycle.js';
import type { Metrics } from './metrics.js';
import type { EnvironmentPatch, StatusStore } from './status-store.js';

/**
 * Records an environment that will not deploy (invalid manifests, refused by
 * the operator policy, or an unsigned head): status, metrics and one log line.
 * Capped: 20,000 bad files must not make a megabyte status page or log line.
 */
export function recordInvalid(sink: { store: StatusStore; metrics: Metrics; log: Logger }, name: string, patch: EnvironmentPatch, revision: string, message: string): void {
  const errors = patch.errors ?? [];
  sink.store.patch(name, { ...patch, errors: capList(errors) });
  sink.metrics.setState(name, 'invalid');
  sink.metrics.error(name);
  sink.log.warn({ environment: name, revision: revisionLabel(revision), problems: capList(errors, 20) }, message);
}

/** An engine that could not be reached: status, metrics and a log line; retried with backoff unless the error says retrying as is cannot help. */
export function recordUnreachable(sink: Parameters<typeof recordInvalid>[0], name: string, error: unknown, revision: string, now: string, retry: string[]): void {
  const message = (error as Error).message;
  sink.store.patch(name, unreachablePatch(message, revision, now));
  sink.log.warn({ environment: name, err: message }, 'cannot reconcile; will retry');
  sink.metrics.setState(name, 'unreachable');
  sink.metrics.error(name);
  if ((error as { transient?: boolean }).transient !== false) retry.push(name);
}
