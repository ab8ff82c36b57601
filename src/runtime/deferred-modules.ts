import { Module, createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Modules that our dependencies require when they load but that stagecoach
 * reaches only in rare cases. A stand-in in the require cache loads the real
 * module when it is first used:
 *
 * * `docker-modem/lib/ssh.js` requires ssh2, which compiles a WebAssembly
 *   module at import: +15 MB RSS and ~45 ms of every start. stagecoach's ssh://
 *   engines go through its own agent (ssh-transport.ts), so modem's ssh
 *   transport is never called.
 * * `dockerode/lib/session.js` requires @grpc/grpc-js and protobufjs for
 *   BuildKit sessions (`buildImage` with registry auth), which stagecoach never
 *   starts: ~7 MB and ~0.1 s.
 * * `@opentelemetry/api` (51 files, ~6 MB) is required by prom-client's CPU
 *   metrics for exemplars, which stagecoach does not enable.
 *
 * Imported first by the modules that load those packages (connect.ts,
 * metrics.ts). A module already loaded is left as it is.
 */
export const deferredModules = {
  functions: [beside('docker-modem', 'ssh.js'), beside('dockerode', 'session.js')].filter((f): f is string => f !== undefined),
  objects: [beside('@opentelemetry/api')].filter((f): f is string => f !== undefined),
};

/** A file next to a package's main module (or the main module itself); undefined when the package is not installed. */
function beside(pkg: string, file?: string): string | undefined {
  try {
    const main = require.resolve(pkg);
    return file ? join(dirname(main), file) : main;
  } catch {
    return undefined;
  }
}

const standIns = new WeakSet<object>();

/** True while the require cache holds the stand-in for `file`: its real module has not been loaded. */
export function stillDeferred(file: string): boolean {
  const cached = require.cache[file];
  return cached !== undefined && standIns.has(cached);
}

function standIn(file: string, exports: (load: () => unknown) => unknown): void {
  const cache = require.cache;
  if (cache[file]) return;
  const module = new Module(file);
  standIns.add(module);
  module.filename = file;
  module.loaded = true;
  let real: unknown;
  const load = () => {
    if (cache[file] === module) delete cache[file];
    return (real ??= require(file));
  };
  module.exports = exports(load);
  cache[file] = module;
}

/** For a module that exports one function: a function that loads it on its first call. */
export function deferFunctionModule(file: string): void {
  standIn(file, (load) =>
    function deferred(this: unknown, ...args: unknown[]): unknown {
      return (load() as (...a: unknown[]) => unknown).apply(this, args);
    },
  );
}

/** For a module that exports an object: a proxy that loads it when a property is first read. */
export function deferObjectModule(file: string): void {
  standIn(file, (load) => {
    const real = () => load() as object;
    return new Proxy({}, {
      get: (_target, key) => Reflect.get(real(), key),
      has: (_target, key) => Reflect.has(real(), key),
      ownKeys: () => Reflect.ownKeys(real()),
      getOwnPropertyDescriptor: (_target, key) => {
        const d = Reflect.getOwnPropertyDescriptor(real(), key);
        return d && { ...d, configurable: true };
      },
    });
  });
}

for (const file of deferredModules.functions) deferFunctionModule(file);
for (const file of deferredModules.objects) deferObjectModule(file);
