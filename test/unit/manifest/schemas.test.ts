import { readdirSync } from 'node:fs';
import { Ajv } from 'ajv';
import ajvErrors from 'ajv-errors';
import { describe, expect, it } from 'vitest';
import { diskRepo } from '../../../src/manifest/files.js';
import { loadRepo } from '../../../src/manifest/load.js';
import { formatProblem } from '../../../src/manifest/problem.js';
import { compileSchemas, readSchema, schemaFiles, schemasDir } from '../../../src/manifest/schemas.js';
import type { SchemaName } from '../../../src/manifest/schemas.js';

const names = Object.keys(schemaFiles) as SchemaName[];

function strictAjv() {
  const ajv = new Ajv({ strict: true, allErrors: true, allowUnionTypes: true });
  (ajvErrors as unknown as (a: Ajv) => Ajv)(ajv);
  return ajv;
}

/** Every property schema below `schema`, with its JSON path, for the description check. */
function properties(schema: Record<string, unknown>, at = ''): [string, Record<string, unknown>][] {
  const found: [string, Record<string, unknown>][] = [];
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  for (const [key, child] of Object.entries(props)) {
    if (typeof child !== 'object') continue;
    found.push([`${at}/${key}`, child], ...properties(child, `${at}/${key}`));
    const items = child.items as Record<string, unknown> | undefined;
    if (items && typeof items === 'object') found.push(...properties(items, `${at}/${key}/items`));
  }
  return found;
}

describe('schemas', () => {
  it('every schema file in schemas/ is one we compile', () => {
    expect(readdirSync(schemasDir).filter((f) => f.endsWith('.json')).sort()).toEqual(Object.values(schemaFiles).sort());
  });

  it.each(names)('%s compiles in strict mode and has an $id', (name) => {
    const schema = readSchema(name);
    expect(schema.$id).toMatch(/^https:\/\/stagecoach\.dev\/schemas\/v1\/.+\.schema\.json$/);
    expect(() => strictAjv().compile(schema)).not.toThrow();
  });

  it.each(names)('%s describes every field', (name) => {
    const schema = readSchema(name);
    const definitions = Object.entries((schema.definitions ?? {}) as Record<string, Record<string, unknown>>).flatMap(([k, d]) => properties(d, `#${k}`));
    const undocumented = [...properties(schema), ...definitions]
      .filter(([, child]) => typeof child.description !== 'string' && child.$ref === undefined)
      .map(([path]) => path)
      .filter((path) => !/^#(secretRef|envValue|secretSource)\//.test(path));
    expect(undocumented).toEqual([]);
  });

  it.each(names)('%s validates its own examples', (name) => {
    const schema = readSchema(name);
    const validate = compileSchemas()[name];
    for (const example of (schema.examples as unknown[] | undefined) ?? []) {
      expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it('the bundled environments/ validate', async () => {
    const result = await loadRepo(diskRepo(new URL('../../..', import.meta.url).pathname), compileSchemas());
    expect(result.problems.map(formatProblem)).toEqual([]);
    expect(result.environments.map((e) => e.name)).toEqual(['production', 'staging', 'testing']);
    expect(result.environments.map((e) => e.loaded?.services.map((s) => s.name))).toEqual([
      ['web', 'worker'],
      ['web', 'worker'],
      ['web', 'worker'],
    ]);
  });
});
