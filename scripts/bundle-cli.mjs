// Part of `npm run build`, after tsc and the schemas: bundles the CLI
// (dist/cli/main.js and everything it imports) into a few ES modules in
// dist/bundle/, which bin/stagecoach.js runs. Each command's module stays a
// chunk of its own, loaded when that command runs.
//
// Why: a start loaded ~100 files of dist/ and ~90 of node_modules one by one
// (resolve, realpath, read, compile; CommonJS packages also get their exports
// scanned for ESM), which cost ~0.1 s of every `plan` and `validate`.
// Generated, never committed; tests run src/ and are not affected.
import { copyFileSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { bundleDir, bundledPackages, packageOf } from './bundle-policy.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));

/** Only the packages in bundledPackages go into the bundle; the rest load from node_modules at run time. */
const externals = {
  name: 'stagecoach-externals',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (isBuiltin(args.path)) return { path: args.path, external: true };
      if (!bundledPackages.has(packageOf(args.path))) return { path: args.path, external: true };
      return undefined;
    });
  },
};

// Chunk names carry a content hash: clear the last build's.
rmSync(new URL(`../${bundleDir}/`, import.meta.url), { recursive: true, force: true });

await esbuild.build({
  absWorkingDir: root,
  entryPoints: { main: 'dist/cli/main.js' },
  outdir: bundleDir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Names as written (error classes, functions): the bundle behaves like dist/.
  keepNames: true,
  sourcemap: 'linked',
  // The bundled CommonJS packages require Node's built-ins: an ES module has no `require` of its own.
  banner: { js: "import { createRequire as __stagecoachCreateRequire } from 'node:module'; const require = __stagecoachCreateRequire(import.meta.url);" },
  plugins: [externals],
  logLevel: 'warning',
});

// The build's standalone schema validators, found beside the code that loads them (src/manifest/schemas.ts).
copyFileSync(new URL('../dist/manifest/schema-validators.cjs', import.meta.url), new URL(`../${bundleDir}/schema-validators.cjs`, import.meta.url));
console.log(`bundled the CLI into ${bundleDir}/`);
