// Which npm packages scripts/bundle-cli.mjs puts into the CLI bundle (pure; unit-tested).

/** Where the bundle goes: two levels below the package root, like dist/cli/, so import.meta.url paths such as '../../schemas/' still resolve. */
export const bundleDir = 'dist/bundle';

/**
 * Plain JavaScript packages that `plan`, `apply` and `validate` load at every
 * start and that find nothing on disk by their own path: bundled. yaml alone
 * was ~60 CommonJS files. Everything else stays in node_modules, loaded at run
 * time as before, in particular packages that
 * * are put in place or deferred through the require cache (docker-modem,
 *   dockerode: src/runtime/deferred-modules.ts),
 * * load a file by a path relative to their own (node-cron forks its daemon.js,
 *   pino starts worker threads, re2-wasm reads its .wasm),
 * * are loaded on demand with createRequire (ajv, ajv-errors, semver, ssh2),
 * * or only the daemon uses (chokidar, prom-client, simple-git's callers).
 */
export const bundledPackages = new Set([
  'yaml',
  'commander',
  'dotenv',
  'p-limit',
  'yocto-queue', // p-limit's only dependency
  'safe-stable-stringify',
  'fastest-levenshtein',
  'shell-quote',
]);

/** The package an import specifier names: `yaml/util` → yaml, `@scope/pkg/x` → @scope/pkg. */
export function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}
