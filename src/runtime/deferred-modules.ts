import { Module, createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Modules that dockerode and docker-modem require when they load but that
 * stagecoach reaches only in rare cases. Each exports a single function, so a
 * stand-in function in the require cache can load the real one on its first
 * call:
 *
 * * `docker-modem/lib/ssh.js` requires ssh2, which compiles a WebAssembly
 *   module at import: +15 MB RSS and ~45 ms of every start. stagecoach's ssh://
 *   engines go through its own agent (ssh-transport.ts), so modem's ssh
 *   transport is never called.
 * * `dockerode/lib/session.js` requires @grpc/grpc-js and protobufjs for
 *   BuildKit sessions (`buildImage` with registry auth), which stagecoach never
 *   starts: ~7 MB and ~0.1 s.
 *
 * Call before docker-modem or dockerode is first required (connect.ts imports
 * this module first). If either module is already loaded, nothing changes.
 */
export const deferredModules = [
  join(dirname(require.resolve('docker-modem')), 'ssh.js'),
  join(dirname(require.resolve('dockerode')), 'session.js'),
] as const;

export function deferFunctionModule(file: string): void {
  const cache = require.cache;
  if (cache[file]) return;
  const standIn = new Module(file);
  standIn.filename = file;
  standIn.loaded = true;
  standIn.exports = function deferred(this: unknown, ...args: unknown[]): unknown {
    if (cache[file] === standIn) delete cache[file];
    const real = require(file) as (...a: unknown[]) => unknown;
    standIn.exports = real;
    return real.apply(this, args);
  };
  cache[file] = standIn;
}

for (const file of deferredModules) deferFunctionModule(file);
