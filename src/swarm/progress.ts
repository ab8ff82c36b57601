import type { ObservedService, SwarmTask } from './types.js';

/** How far a service's tasks of one spec have come, by mode: running replicas, one running task per node, or completed job tasks. */
export interface TaskProgress {
  done: boolean;
  message: string;
  /** Images of the tasks counted (as Swarm resolved them). */
  images: string[];
}

const images = (tasks: SwarmTask[]) => [...new Set(tasks.map((t) => t.image))];

export function taskProgress(service: Pick<ObservedService, 'mode' | 'replicas'>, tasks: SwarmTask[], hash: string): TaskProgress {
  const mine = tasks.filter((t) => t.specHash === hash);
  switch (service.mode) {
    case 'replicated-job': {
      const complete = mine.filter((t) => t.state === 'complete');
      return { done: complete.length >= service.replicas, message: `${complete.length}/${service.replicas} tasks completed`, images: images(complete) };
    }
    case 'global-job': {
      // One task per node: done once every task Swarm made for this spec has completed.
      const complete = mine.filter((t) => t.state === 'complete');
      const wanted = mine.filter((t) => t.desiredState === 'complete');
      return { done: complete.length > 0 && complete.length >= wanted.length, message: `${complete.length}/${wanted.length} tasks completed (one per node)`, images: images(complete) };
    }
    case 'global': {
      const wanted = tasks.filter((t) => t.desiredState === 'running');
      const up = wanted.filter((t) => t.state === 'running' && t.specHash === hash);
      return { done: up.length > 0 && up.length === wanted.length, message: `${up.length}/${wanted.length} tasks running (one per node)`, images: images(up) };
    }
    default: {
      const up = mine.filter((t) => t.desiredState === 'running' && t.state === 'running');
      return { done: up.length === service.replicas, message: `${up.length}/${service.replicas} tasks running`, images: images(up) };
    }
  }
}
