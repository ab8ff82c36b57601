import { parse as parseDotenv } from 'dotenv';
import { parseAllDocuments } from 'yaml';
import { regexProblem, testSafeRegex } from '../policy/regex.js';
import type { RepoFiles } from './files.js';
import type { VariableScope } from './interpolate.js';
import { defaultSecretNames } from './normalize-service.js';
import type { Problem } from './problem.js';

/** The file of interpolation variables, committed beside the manifests (compose's `.env`). */
export const variablesFile = '.env';

export interface Variables {
  file: string;
  values: ReadonlyMap<string, string>;
  scope: VariableScope;
}

/**
 * The environment's policy.secretNames, read ahead of the full parse because
 * interpolation (which happens while parsing) needs it. Falls back to the
 * default when absent or invalid; the full load reports an invalid one.
 */
export function environmentPreview(texts: ReadonlyMap<string, string>): { secretNames: string; variables: Record<string, string>; file?: string } {
  for (const [file, text] of texts) {
    if (!/^kind:\s*["']?Environment/m.test(text)) continue;
    for (const doc of parseAllDocuments(text, { schema: 'core' }) as unknown as { toJS(options: { maxAliasCount: number }): unknown }[]) {
      try {
        const value = doc.toJS({ maxAliasCount: 100 }) as { kind?: unknown; policy?: { secretNames?: unknown }; variables?: unknown } | null;
        if (value?.kind !== 'Environment') continue;
        let secretNames = defaultSecretNames;
        const names = value.policy?.secretNames;
        if (typeof names === 'string') {
          // RE2 (the pattern comes from the repo); the full load reports an invalid expression.
          if (regexProblem(names, { ignoreCase: true }) === undefined) secretNames = names;
        }
        const raw = value.variables && typeof value.variables === 'object' ? (value.variables as Record<string, unknown>) : {};
        const variables = Object.fromEntries(Object.entries(raw).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v)).map(([k, v]) => [k, String(v)]));
        return { secretNames, variables, file };
      } catch {
        // malformed: the real parse reports it
      }
    }
  }
  return { secretNames: defaultSecretNames, variables: {} };
}

/** Reads `<folder>/.env`; a missing file is no variables. Secret-looking names in it are refused: secrets never live in git. */
export async function readVariables(files: RepoFiles, folder: string, preview: ReturnType<typeof environmentPreview>, problems: Problem[]): Promise<Variables> {
  const file = `${folder}/${variablesFile}`;
  // RE2 through testSafeRegex's few kept programs: the scope outlives this call and re2-wasm's heap is not garbage-collected.
  const secret = { test: (name: string) => regexProblem(preview.secretNames, { ignoreCase: true }) === undefined && testSafeRegex(preview.secretNames, { ignoreCase: true }, name) };
  const read = await files.read(file);
  const values = new Map<string, string>();
  if (!read.ok && read.problem.message !== 'does not exist') problems.push(read.problem);
  if (read.ok) {
    const lines = read.text.split('\n');
    for (const [name, value] of Object.entries(parseDotenv(read.text))) {
      if (secret.test(name)) {
        const line = lines.findIndex((l) => new RegExp(`^\\s*(export\\s+)?${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*=`).test(l)) + 1;
        problems.push({
          file,
          ...(line > 0 ? { line, column: 1 } : {}),
          message: `defines ${name}, whose name looks secret; secrets never live in git: remove it, and \${${name}} becomes the secret reference { secret: ${name} } resolved on the daemon host`,
        });
        continue;
      }
      values.set(name, value);
    }
  }
  for (const [name, value] of Object.entries(preview.variables)) {
    if (secret.test(name)) {
      problems.push({ file: preview.file ?? folder, path: `/variables/${name}`, message: `defines ${name}, whose name looks secret; secrets never live in git: remove it, and \${${name}} becomes the secret reference { secret: ${name} }` });
      continue;
    }
    values.set(name, value); // environment.yaml wins over .env
  }
  return { file, values, scope: { lookup: (name) => values.get(name), isSecret: (name) => secret.test(name) } };
}
