import type { ContainerEvent, ContainerRuntime, WatchOptions } from './types.js';

type EventStream = NodeJS.ReadableStream & { destroy?: () => void };

/**
 * Follows the engine's event stream (newline-delimited JSON) as container
 * events: each one with its container name and labels. onEnd is told once
 * when the stream ends or fails (not after close()).
 */
export function followContainerEvents(
  open: () => Promise<NodeJS.ReadableStream>,
  handlers: { onEvent(event: ContainerEvent): void; onEnd(error?: Error): void; onOpen?: () => void; error(cause: unknown): Error },
): { close(): void } {
  let stream: EventStream | undefined;
  let closed = false;
  open().then(
    (s) => {
      stream = s as EventStream;
      if (closed) return stream.destroy?.();
      handlers.onOpen?.();
      let buffered = '';
      s.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines.filter(Boolean)) {
          try {
            const e = JSON.parse(line) as { Action: string; Actor: { ID?: string; Attributes: Record<string, string> } };
            const { name = '', ...rest } = e.Actor.Attributes;
            handlers.onEvent({ ...(e.Actor.ID ? { id: e.Actor.ID } : {}), action: e.Action, container: name, labels: rest });
          } catch {
            // a partial or foreign line: ignore
          }
        }
      });
      s.on('end', () => !closed && handlers.onEnd());
      s.on('error', (error: Error) => !closed && handlers.onEnd(handlers.error(error)));
    },
    (error: unknown) => handlers.onEnd(handlers.error(error)),
  );
  return {
    close: () => {
      closed = true;
      stream?.destroy?.();
    },
  };
}

export interface KeepFollowingOptions extends WatchOptions {
  /** Told each time the stream ends or cannot be opened (not after close()). */
  onEnd?: (error?: Error) => void;
  /** Following again after the stream ended, this much later. */
  retryMs?: number;
}

/**
 * runtime.watchEvents, followed again retryMs after every end, until closed:
 * what the daemon's long-lived listeners (heal triggers, the inspect cache,
 * the drift watch) each need.
 */
export function keepFollowing(runtime: Pick<ContainerRuntime, 'watchEvents'>, labels: Record<string, string>, onEvent: (event: ContainerEvent) => void, options: KeepFollowingOptions = {}): { close(): void } {
  const { onEnd, retryMs = 5_000, ...watch } = options;
  let handle: { close(): void } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const subscribe = () => {
    handle = runtime.watchEvents(labels, onEvent, (error) => {
      if (closed) return;
      onEnd?.(error);
      (timer = setTimeout(subscribe, retryMs)).unref();
    }, watch);
  };
  subscribe();
  return {
    close: () => {
      closed = true;
      clearTimeout(timer);
      handle?.close();
    },
  };
}
