import { keepFollowing } from '../runtime/event-stream.js';
import { labels } from '../runtime/labels.js';
import type { ContainerEvent, ContainerRuntime } from '../runtime/types.js';

/**
 * Container actions after which a list call could show an environment
 * differently (state, health, name, limits, which containers exist). Not the
 * exec_* events a healthcheck makes at every probe: they change nothing the
 * list shows, and health_status fires when the health does change.
 */
export const vouchedContainerActions = ['create', 'start', 'restart', 'die', 'kill', 'stop', 'destroy', 'pause', 'unpause', 'oom', 'rename', 'update', 'health_status'] as const;

/** Image actions after which a tag may point elsewhere, or an image may be gone: every environment on the engine is listed again. */
export const vouchedImageActions = ['tag', 'untag', 'delete', 'import', 'load', 'pull'] as const;

export interface DriftWatchOptions {
  /**
   * A periodic check lists an environment at least this often, however
   * quiet its events: the backstop for a stream that stalls without ending.
   */
  resyncMs: number;
  now?: () => number;
  /** Following again after the stream ended. */
  retryMs?: number;
}

/**
 * Whether the engine's event stream vouches that an environment still looks
 * as it did when it was last listed, so a periodic drift check may skip its
 * list call (the informer pattern: watch, and resync now and then).
 *
 * It vouches only when all of this holds: the stream was open before that
 * listing began and has not ended since; no event of the environment's
 * containers (vouchedContainerActions) and no image event arrived since the
 * listing began; the listing is younger than resyncMs. Anything else, and
 * the check lists. A check asked for by an event, a schedule, a retry or a
 * new revision always lists: only the periodic safety net asks here.
 *
 * Marks are sequence numbers, not times: an event that arrives while a list
 * call is in flight counts as after it (the list may or may not show it).
 */
export class DriftWatch {
  private readonly resyncMs: number;
  private readonly now: () => number;
  private readonly retryMs: number;
  private seq = 0;
  /** The mark at which the stream (all of it) last opened; undefined while any part is closed. */
  private openedAt: number | undefined;
  private readonly parts = new Map<'containers' | 'images', boolean>([['containers', false], ['images', false]]);
  /** The mark of the last event that concerns every environment (an image event, a managed container without an environment label). */
  private everything = { mark: 0, why: '' };
  private readonly touched = new Map<string, number>();
  private readonly lastListed = new Map<string, { mark: number; at: number }>();

  constructor(options: DriftWatchOptions) {
    this.resyncMs = options.resyncMs;
    this.now = options.now ?? Date.now;
    this.retryMs = options.retryMs ?? 5_000;
  }

  /** Follows the engine's container events (managed containers) and image events until closed; each part reopens after retryMs when it ends. */
  follow(runtime: ContainerRuntime): { close(): void } {
    const container = this.part(runtime, 'containers', { [labels.managed]: 'true' }, (e) => this.containerEvent(e), { actions: [...vouchedContainerActions] });
    const image = this.part(runtime, 'images', {}, () => (this.everything = { mark: ++this.seq, why: 'an image changed on the engine' }), { actions: [...vouchedImageActions], type: 'image' });
    return {
      close: () => {
        container.close();
        image.close();
      },
    };
  }

  /** The mark to give listed() once the list call it precedes has answered. */
  mark(): number {
    return this.seq;
  }

  /** The environment was listed; `mark` is what mark() said just before the list call. */
  listed(environment: string, mark: number): void {
    this.lastListed.set(environment, { mark, at: this.now() });
  }

  /** Why a periodic check of this environment must list it; undefined when the event stream vouches for it. */
  doubt(environment: string): string | undefined {
    const last = this.lastListed.get(environment);
    if (!last) return 'never listed since the daemon started';
    if (this.openedAt === undefined) return "the engine's event stream is not open";
    if (this.openedAt > last.mark) return "the engine's event stream (re)opened after the last listing";
    if (this.everything.mark > last.mark) return `${this.everything.why} since the last listing`;
    if ((this.touched.get(environment) ?? 0) > last.mark) return 'its containers had events since the last listing';
    const age = this.now() - last.at;
    if (age >= this.resyncMs) return `last listed ${Math.round(age / 1000)} s ago (resync every ${Math.round(this.resyncMs / 1000)} s)`;
    return undefined;
  }

  private containerEvent(e: ContainerEvent): void {
    const environment = e.labels[labels.environment];
    if (environment) this.touched.set(environment, ++this.seq);
    else this.everything = { mark: ++this.seq, why: 'a managed container without an environment label had events' };
  }

  private part(runtime: ContainerRuntime, name: 'containers' | 'images', filter: Record<string, string>, onEvent: (e: ContainerEvent) => void, options: { actions: string[]; type?: 'image' }): { close(): void } {
    const followed = keepFollowing(runtime, filter, onEvent, { ...options, retryMs: this.retryMs, onOpen: () => this.setOpen(name, true), onEnd: () => this.setOpen(name, false) });
    return {
      close: () => {
        followed.close();
        this.setOpen(name, false);
      },
    };
  }

  private setOpen(name: 'containers' | 'images', open: boolean): void {
    this.parts.set(name, open);
    // Open again: what happened while a part was closed is unknown, so every listing before now stops counting.
    this.openedAt = [...this.parts.values()].every(Boolean) ? ++this.seq : undefined;
  }
}
