import { mkdirSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ValidateFunction } from 'ajv';
import { compileSchemasNow, writeStandaloneValidators } from '../../../src/manifest/schemas.js';

const require = createRequire(import.meta.url);

describe('schemas compiled at build time (ajv standalone)', () => {
  // Inside the project (.stagecoach/ is ignored), so that the generated code finds ajv's runtime helpers.
  mkdirSync('.stagecoach', { recursive: true });
  const file = path.join(mkdtempSync(path.resolve('.stagecoach', 'schemas-')), 'schema-validators.cjs');
  writeStandaloneValidators(file);
  const built = require(file) as Record<string, ValidateFunction>;
  const now = compileSchemasNow();

  it.each([
    ['Service', { apiVersion: 'stagecoach/v1', kind: 'Service', name: 'web', image: 'busybox:1.35' }],
    ['Service', { apiVersion: 'stagecoach/v1', kind: 'Service', name: 'web', image: 'busybox:1.35', imagee: 'x', ports: [12], depends_on: { db: { condition: 'nope' } } }],
    ['Environment', { apiVersion: 'stagecoach/v1', kind: 'Environment', name: 'Bad Name', sync: { auto: 'yes' } }],
    ['Settings', { interval: -1 }],
  ] as const)('%s: the same verdict and errors as compiling at start (%#)', (name, doc) => {
    const a = now[name](doc);
    const b = built[name]!(doc);
    expect(b).toBe(a);
    const strip = (errors: ValidateFunction['errors']) => (errors ?? []).map((e) => ({ path: e.instancePath, keyword: e.keyword, message: e.message, params: e.params }));
    expect(strip(built[name]!.errors)).toEqual(strip(now[name].errors));
  });
});
