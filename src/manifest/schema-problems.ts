import type { ErrorObject } from 'ajv';
import type { ParsedDocument } from './parse.js';
import type { Problem } from './problem.js';
import { describeValue, fromPointer, toPointer } from './problem.js';
import { unsupportedFields } from './refusals.js';
import { didYouMean } from './suggest.js';

const typeNames: Record<string, string> = {
  string: 'a string',
  array: 'a list',
  object: 'a mapping',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'null',
};

interface Located {
  segments: (string | number)[];
  at: 'key' | 'value';
  message: string;
}

function got(value: unknown): string {
  return ` (got ${describeValue(value)})`;
}

function explain(error: ErrorObject): Located | undefined {
  const segments = fromPointer(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'errorMessage': {
      const inner = (params.errors as ErrorObject[] | undefined)?.[0] as (ErrorObject & { propertyName?: string }) | undefined;
      if (inner?.propertyName !== undefined) {
        return { segments: [...segments, inner.propertyName], at: 'key', message: `name ${error.message}${got(inner.propertyName)}` };
      }
      return { segments, at: 'value', message: `${error.message}${got(error.data)}` };
    }
    case 'propertyNames':
      return undefined; // reported through the inner errorMessage
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      // The schema knows the compose fields stagecoach refuses only to say why: never offered as allowed.
      const allowed = Object.keys((error.parentSchema?.properties as object | undefined) ?? {}).filter((k) => !Object.hasOwn(unsupportedFields, k));
      const suggestion = didYouMean(field, allowed);
      const hint = suggestion ? `did you mean "${suggestion}"?` : `allowed: ${allowed.join(', ')}`;
      return { segments: [...segments, field], at: 'key', message: `is not a known field (${hint})` };
    }
    case 'required':
      return { segments: [...segments, String(params.missingProperty)], at: 'value', message: 'is required' };
    case 'type': {
      const types = Array.isArray(params.type) ? (params.type as string[]) : String(params.type).split(',');
      return { segments, at: 'value', message: `must be ${types.map((t) => typeNames[t] ?? t).join(' or ')}${got(error.data)}` };
    }
    case 'const':
      return { segments, at: 'value', message: `must be ${JSON.stringify(params.allowedValue)}${got(error.data)}` };
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => String(v));
      const suggestion = typeof error.data === 'string' ? didYouMean(error.data, allowed) : undefined;
      return {
        segments,
        at: 'value',
        message: `must be one of ${allowed.join(', ')}${got(error.data)}${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
      };
    }
    default:
      return { segments, at: 'value', message: `${error.message ?? error.keyword}${got(error.data)}` };
  }
}

/** ajv errors → located problems, deduplicated: what a person reads, not what ajv found. */
export function schemaProblems(errors: readonly ErrorObject[], doc: ParsedDocument): Problem[] {
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const error of errors) {
    // A branch of a oneOf/anyOf failing is explained by the oneOf error itself.
    if (/\/(oneOf|anyOf)\/\d+\//.test(error.schemaPath)) continue;
    const located = explain(error);
    if (!located) continue;
    const path = toPointer(located.segments);
    const key = `${path}\0${located.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const locateAt = located.message === 'is required' ? located.segments.slice(0, -1) : located.segments;
    problems.push({ file: doc.file, ...doc.locate(locateAt, located.at), path, message: located.message });
  }
  return problems;
}
