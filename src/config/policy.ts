import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseYamlFile } from '../manifest/parse.js';
import type { ParsedDocument } from '../manifest/parse.js';
import type { Problem } from '../manifest/problem.js';
import { compareProblems } from '../manifest/problem.js';
import { schemaProblems } from '../manifest/schema-problems.js';
import type { SchemaValidators } from '../manifest/schemas.js';
import { defaultGrant, defaultPolicy } from '../policy/types.js';
import type { EnvironmentGrant, OperatorPolicy } from '../policy/types.js';

type RawGrant = Partial<Omit<EnvironmentGrant, 'match'>>;
export interface RawPolicy {
  defaults?: RawGrant;
  environments?: (RawGrant & { match: string })[];
}

/** The operator policy from its raw settings form: defaults filled in, per-environment entries on top of them. */
export function toOperatorPolicy(raw: RawPolicy | undefined, source: string): OperatorPolicy {
  if (!raw) return defaultPolicy;
  const defaults = { ...defaultGrant, ...raw.defaults };
  return { source, defaults, environments: (raw.environments ?? []).map((e) => ({ ...defaults, ...e })) };
}

/**
 * Reads a policy file (--policy FILE or STAGECOACH_POLICY): a YAML mapping
 * with the shape of the settings' `policy:`, validated against the same
 * schema, problems located in that file.
 */
export function readPolicyFile(file: string, cwd: string, validators: SchemaValidators, problems: Problem[]): RawPolicy | undefined {
  const full = path.resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (error) {
    problems.push({ file, message: `policy file cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` });
    return undefined;
  }
  const parsed = parseYamlFile(file, text);
  problems.push(...parsed.problems);
  const doc = parsed.documents[0];
  if (!doc) return parsed.problems.length ? undefined : {};
  // Validated as the `policy` member of a settings document, then located back in this file.
  const wrapped: ParsedDocument = { ...doc, value: { policy: doc.value }, locate: (segments, at) => doc.locate(segments.slice(1), at) };
  if (!validators.Settings(wrapped.value)) {
    problems.push(...schemaProblems(validators.Settings.errors ?? [], wrapped).map((p) => ({ ...p, path: p.path?.replace(/^\/policy/, '') || undefined })).sort(compareProblems));
    return undefined;
  }
  return doc.value as RawPolicy;
}

/** The policy for plan/apply/verify: --policy FILE, else STAGECOACH_POLICY, else the built-in defaults. Throws nothing; problems are collected. */
export function commandPolicy(file: string | undefined, cwd: string, validators: SchemaValidators, problems: Problem[]): OperatorPolicy {
  if (!file) return defaultPolicy;
  return toOperatorPolicy(readPolicyFile(file, cwd, validators, problems), `policy file ${path.resolve(cwd, file)}`);
}
