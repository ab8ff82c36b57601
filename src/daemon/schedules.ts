import { createTask } from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import type { LoadedEnvironment } from '../manifest/types.js';

/**
 * One cron task per environment that asks for it (sync.schedule: a full
 * resync). Rebuilt whenever a revision changes the schedules.
 */
export class Schedules {
  private tasks = new Map<string, { expr: string; task: ScheduledTask }>();

  constructor(private readonly onFire: (environment: string, kind: 'sync') => void) {}

  update(environments: readonly LoadedEnvironment[]): void {
    const wanted = new Map(environments.filter((e) => e.environment.sync.schedule).map((e) => [e.name, e.environment.sync.schedule!]));
    for (const [name, entry] of this.tasks) {
      if (wanted.get(name) === entry.expr) continue;
      void entry.task.destroy();
      this.tasks.delete(name);
    }
    for (const [name, expr] of wanted) {
      if (this.tasks.has(name)) continue;
      const task = createTask(expr, () => this.onFire(name, 'sync'), { noOverlap: true, name: `sync-${name}` });
      void task.start();
      this.tasks.set(name, { expr, task });
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.tasks.values()].map(({ task }) => task.destroy()));
    this.tasks.clear();
  }
}
