import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleDir, bundledPackages, packageOf } from '../../../scripts/bundle-policy.mjs';

const projectRoot = path.resolve(new URL('../../..', import.meta.url).pathname);
const manifest = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

describe('packageOf', () => {
  it.each([
    ['yaml', 'yaml'],
    ['yaml/util', 'yaml'],
    ['commander/lib/command.js', 'commander'],
    ['@grpc/grpc-js', '@grpc/grpc-js'],
    ['@grpc/grpc-js/build/src/index.js', '@grpc/grpc-js'],
  ])('%s is package %s', (specifier, name) => {
    expect(packageOf(specifier)).toBe(name);
  });
});

describe('bundledPackages', () => {
  it('bundles only runtime dependencies (and p-limit’s yocto-queue), never a dev-only package', () => {
    for (const name of bundledPackages) {
      if (name === 'yocto-queue') continue;
      expect(manifest.dependencies, name).toHaveProperty(name);
    }
  });

  it.each(['docker-modem', 'dockerode', 'ssh2', 'node-cron', 'pino', 're2-wasm', 'ajv', 'semver', 'chokidar'])(
    'leaves %s in node_modules (require-cache stand-ins, files found by their own path, or loaded on demand)',
    (name) => {
      expect(bundledPackages.has(name)).toBe(false);
    },
  );

  it('sits two levels below the package root, as dist/cli/ does, for the import.meta.url paths', () => {
    expect(bundleDir.split('/')).toHaveLength(2);
  });
});

describe('the built bundle (npm run build)', () => {
  const dir = path.join(projectRoot, bundleDir);
  const code = () => readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => readFileSync(path.join(dir, f), 'utf8')).join('\n');

  it('holds the code of bundled packages only: every other package is imported from node_modules at run time', () => {
    // esbuild heads each bundled file with a `// node_modules/<package>/<file>` comment.
    const inside = new Set([...code().matchAll(/^\/\/ node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)].map((m) => m[1]!));
    expect(inside.has('yaml')).toBe(true);
    expect([...inside].filter((name) => !bundledPackages.has(name))).toEqual([]);
  });

  it('has the schema validators beside the code that requires them', () => {
    expect(readdirSync(dir)).toContain('schema-validators.cjs');
  });
});
