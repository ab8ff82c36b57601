import type { ContainerRuntime } from '../../src/runtime/types.js';

/** Wraps a ContainerRuntime and counts calls per method: what a drift check costs in engine API calls. Shared by tests and bench/. */
export function countingRuntime<T extends ContainerRuntime>(inner: T): { runtime: T; calls: Map<string, number>; total: () => number; reset: () => void } {
  const calls = new Map<string, number>();
  const runtime = new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function' || typeof key !== 'string' || key === 'constructor') return value;
      return (...args: unknown[]) => {
        calls.set(key, (calls.get(key) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { runtime, calls, total: () => [...calls.values()].reduce((a, b) => a + b, 0), reset: () => calls.clear() };
}
