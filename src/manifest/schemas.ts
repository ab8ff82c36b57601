import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import ajvErrors from 'ajv-errors';

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

export function readSchema(name: SchemaName): JsonSchema {
  return JSON.parse(readFileSync(new URL(schemaFiles[name], `file://${schemasDir}`), 'utf8')) as JsonSchema;
}

/** Compiles every schema in strict mode, collecting all errors (not the first only). */
export function compileSchemas(): SchemaValidators {
  const ajv = new Ajv({ strict: true, allErrors: true, allowUnionTypes: true, verbose: true });
  (ajvErrors as unknown as (a: Ajv) => Ajv)(ajv);
  const names = Object.keys(schemaFiles) as SchemaName[];
  const schemas = Object.fromEntries(names.map((n) => [n, readSchema(n)])) as Record<SchemaName, JsonSchema>;
  const compiled = Object.fromEntries(names.map((n) => [n, ajv.compile(schemas[n])])) as Record<SchemaName, ValidateFunction>;
  return { ...compiled, schemas };
}

export type { ErrorObject };
