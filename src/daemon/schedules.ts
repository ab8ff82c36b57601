import { createTask } from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import type { LoadedEnvironment } from '../manifest/types.js';

/**
 * One cron task per environment schedule: sync.schedule (a drift check and
 * resync) and verify.schedule (tests and a marker). Rebuilt whenever a revision changes the schedules.
 */
export class Schedules {
  private tasks = new Map<string, { expr: string; task: ScheduledTask }>();

  constructor(private readonly onFire: (environment: string, kind: 'sync' | 'verify') => void) {}

  update(environments: readonly LoadedEnvironment[]): void {
    const wanted = new Map<string, string>();
    for (const e of environments) {
      if (e.environment.sync.schedule) wanted.set(`sync:${e.name}`, e.environment.sync.schedule);
      if (e.environment.verify.schedule) wanted.set(`verify:${e.name}`, e.environment.verify.schedule);
    }
    for (const [name, entry] of this.tasks) {
      if (wanted.get(name) === entry.expr) continue;
      void entry.task.destroy();
      this.tasks.delete(name);
    }
    for (const [name, expr] of wanted) {
      if (this.tasks.has(name)) continue;
      const [kind, env] = name.split(':') as ['sync' | 'verify', string];
      const task = createTask(expr, () => this.onFire(env, kind), { noOverlap: true, name });
      void task.start();
      this.tasks.set(name, { expr, task });
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.tasks.values()].map(({ task }) => task.destroy()));
    this.tasks.clear();
  }
}
