import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/** Delivery counters by sink, on the daemon's registry. */
export function createNotifyMetrics(registry: Registry) {
  const registers = [registry];
  return {
    delivered: new Counter({ name: 'stagecoach_notifications_delivered_total', help: 'Notifications a sink accepted (2xx).', labelNames: ['sink'], registers }),
    failed: new Counter({ name: 'stagecoach_notifications_failed_total', help: 'Notifications given up on: refused (4xx) or still failing after every retry.', labelNames: ['sink'], registers }),
    dropped: new Counter({ name: 'stagecoach_notifications_dropped_total', help: 'Notifications dropped unsent because the sink queue was full (oldest first) or the daemon stopped.', labelNames: ['sink'], registers }),
    retries: new Counter({ name: 'stagecoach_notification_retries_total', help: 'Delivery attempts repeated after a transient failure.', labelNames: ['sink'], registers }),
    queued: new Gauge({ name: 'stagecoach_notifications_queued', help: 'Notifications waiting per sink.', labelNames: ['sink'], registers }),
  };
}

export type NotifyMetrics = ReturnType<typeof createNotifyMetrics>;
