import type { ContainerRuntime } from './types.js';

/**
 * The same runtime, telling `count` the name of every port method called
 * (listContainers, inspectContainer, …) before it runs. Each method is one
 * engine API request, except pullImage/buildImage (one request streaming a
 * pull or build) and watchEvents (one long-lived stream): what a drift check
 * costs the engine, counted where the daemon calls it.
 */
export function countedRuntime<T extends ContainerRuntime>(inner: T, count: (operation: string) => void): T {
  return new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function' || typeof key !== 'string' || key === 'constructor') return value;
      return (...args: unknown[]) => {
        count(key);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
