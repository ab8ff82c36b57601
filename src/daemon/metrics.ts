// First: prom-client's CPU metrics would load @opentelemetry/api at import (runtime/deferred-modules.ts).
import '../runtime/deferred-modules.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { syncStates } from './status.js';
import type { SyncState } from './status.js';

/** Every metric of the daemon, on its own registry (no global state). */
export function createMetrics() {
  const registry = new Registry();
  const shownRevision = new Map<string, string>();
  // The standard process_* and nodejs_* names, as every exporter uses them. The event-loop lag gauges are left out:
  // sampled at 10 ms they would wake an idle daemon 100 times a second; sampled coarser they only report the resolution.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 500 });
  for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_min_seconds', 'nodejs_eventloop_lag_max_seconds', 'nodejs_eventloop_lag_mean_seconds', 'nodejs_eventloop_lag_stddev_seconds', 'nodejs_eventloop_lag_p50_seconds', 'nodejs_eventloop_lag_p90_seconds', 'nodejs_eventloop_lag_p99_seconds']) registry.removeSingleMetric(name);
  const metrics = {
    registry,
    reconcileDuration: new Histogram({
      name: 'stagecoach_reconcile_duration_seconds',
      help: 'Time to load, plan and apply one environment.',
      labelNames: ['environment', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    syncState: new Gauge({ name: 'stagecoach_environment_sync_state', help: '1 for the current sync state of each environment.', labelNames: ['environment', 'state'], registers: [registry] }),
    revision: new Gauge({ name: 'stagecoach_environment_revision_info', help: 'Applied revision of each environment (value 1).', labelNames: ['environment', 'revision'], registers: [registry] }),
    deploys: new Counter({ name: 'stagecoach_deploys_total', help: 'Container changes applied, by result (ok, rolled-back, failed, skipped).', labelNames: ['environment', 'kind', 'result'], registers: [registry] }),
    rollbacks: new Counter({ name: 'stagecoach_rollbacks_total', help: 'Updates rolled back automatically.', labelNames: ['environment'], registers: [registry] }),
    gitQueries: new Counter({ name: 'stagecoach_git_remote_queries_total', help: 'ls-remote queries ("did the branch move?").', labelNames: ['result'], registers: [registry] }),
    gitFetches: new Counter({ name: 'stagecoach_git_fetches_total', help: 'Fetches of the config repo.', labelNames: ['result'], registers: [registry] }),
    webhooks: new Counter({ name: 'stagecoach_webhook_requests_total', help: 'Webhook requests by provider and outcome.', labelNames: ['provider', 'outcome'], registers: [registry] }),
    lastError: new Gauge({ name: 'stagecoach_last_error_timestamp_seconds', help: 'When each environment (or "source") last had an error.', labelNames: ['scope'], registers: [registry] }),
    loads: new Counter({ name: 'stagecoach_environment_loads_total', help: 'Environments loaded from git objects (only when their tree changed).', labelNames: ['environment'], registers: [registry] }),
    observes: new Counter({ name: 'stagecoach_environment_observes_total', help: 'Observations of an environment on its engine (deploys and drift checks).', labelNames: ['environment'], registers: [registry] }),
    driftChecks: new Counter({ name: 'stagecoach_periodic_drift_checks_total', help: "Periodic drift checks of a quiet environment, by what settled them: a list call, or the engine's event stream vouching that nothing changed since the last one.", labelNames: ['environment', 'by'], registers: [registry] }),
    applies: new Counter({ name: 'stagecoach_environment_applies_total', help: 'Plans with changes applied to an environment.', labelNames: ['environment'], registers: [registry] }),
    dockerCalls: new Counter({ name: 'stagecoach_docker_api_calls_total', help: 'Docker engine API calls made by the deploy step (observe, plan, apply), by port operation.', labelNames: ['operation'], registers: [registry] }),
    errors: new Counter({ name: 'stagecoach_errors_total', help: 'Errors by scope (environment name or "source").', labelNames: ['scope'], registers: [registry] }),
    setState(environment: string, state: SyncState) {
      for (const s of syncStates) metrics.syncState.set({ environment, state: s }, s === state ? 1 : 0);
    },
    setRevision(environment: string, revision: string) {
      const previous = shownRevision.get(environment);
      if (previous !== undefined && previous !== revision) metrics.revision.remove({ environment, revision: previous });
      shownRevision.set(environment, revision);
      metrics.revision.set({ environment, revision }, 1);
    },
    error(scope: string) {
      metrics.errors.inc({ scope });
      metrics.lastError.set({ scope }, Date.now() / 1000);
    },
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
