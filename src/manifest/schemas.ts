import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';

/** schemas/ at the package root; the same relative path from src/ and from dist/. */
export const schemasDir = fileURLToPath(new URL('../../schemas/', import.meta.url));

export const schemaFiles = {
  Environment: 'environment.schema.json',
  Service: 'service.schema.json',
  Settings: 'settings.schema.json',
  PromotionMarker: 'promotion-marker.schema.json',
  Notification: 'notification.schema.json',
} as const;
export type SchemaName = keyof typeof schemaFiles;

export type SchemaValidators = Record<SchemaName, ValidateFunction> & { schemas: Record<SchemaName, JsonSchema> };
export type JsonSchema = Record<string, unknown>;

/**
 * Validators compiled at build time (ajv standalone code), written by
 * `npm run build` beside this file in dist/ and never committed. Running from
 * src/ (tests, tsx) there is none, and the schemas are compiled at start.
 */
export const standaloneFile = fileURLToPath(new URL('./schema-validators.cjs', import.meta.url));

// ajv is CommonJS: required on demand keeps it (and its compile-time code) out of a start that uses the build's validators.
const require = createRequire(import.meta.url);
const names = Object.keys(schemaFiles) as SchemaName[];

export function readSchema(name: SchemaName): JsonSchema {
  return JSON.parse(readFileSync(new URL(schemaFiles[name], `file://${schemasDir}`), 'utf8')) as JsonSchema;
}

/** Strict mode, every error (not the first only), with ajv-errors' messages. */
function newAjv(extra: Record<string, unknown> = {}): Ajv {
  const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
  const ajv = new AjvClass({ strict: true, allErrors: true, allowUnionTypes: true, verbose: true, ...extra });
  (require('ajv-errors') as (a: Ajv) => Ajv)(ajv);
  return ajv;
}

function readAll(): Record<SchemaName, JsonSchema> {
  return Object.fromEntries(names.map((n) => [n, readSchema(n)])) as Record<SchemaName, JsonSchema>;
}

/** Compiles every schema now (what a start from src/ does). */
export function compileSchemasNow(): SchemaValidators {
  const ajv = newAjv();
  const schemas = readAll();
  const compiled = Object.fromEntries(names.map((n) => [n, ajv.compile(schemas[n])])) as Record<SchemaName, ValidateFunction>;
  return { ...compiled, schemas };
}

/** The validators: the build's standalone code when it is there, else compiled now. */
export function compileSchemas(): SchemaValidators {
  if (!existsSync(standaloneFile)) return compileSchemasNow();
  const compiled = require(standaloneFile) as Record<SchemaName, ValidateFunction>;
  return { ...Object.fromEntries(names.map((n) => [n, compiled[n]])), schemas: readAll() } as SchemaValidators;
}

/** Writes the standalone validators module (CommonJS, one export per schema); run by the build. */
export function writeStandaloneValidators(file = standaloneFile): void {
  const ajv = newAjv({ code: { source: true, esm: false } });
  const schemas = readAll();
  for (const n of names) ajv.addSchema(schemas[n], n);
  const { default: standaloneCode } = require('ajv/dist/standalone') as { default: (a: Ajv, refs: Record<string, string>) => string };
  writeFileSync(file, standaloneCode(ajv, Object.fromEntries(names.map((n) => [n, n]))));
}

export type { ErrorObject };
