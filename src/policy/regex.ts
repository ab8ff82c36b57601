import { RE2 } from 're2-wasm';

/**
 * A regular expression from the config repo, run by RE2: time linear in the
 * input, whatever the pattern (no backtracking, so `(a+)+$` cannot stall the
 * daemon). Backreferences and lookaround are not offered; the error says so.
 */
export interface SafeRegex {
  readonly source: string;
  test(text: string): boolean;
}

export type CompiledRegex = { ok: true; regex: SafeRegex } | { ok: false; error: string };

/** Longest pattern accepted from a repo; RE2 compiles in time linear in it too. */
export const maxPatternLength = 1000;

export function compileSafeRegex(pattern: string, options: { ignoreCase?: boolean } = {}): CompiledRegex {
  if (pattern.length > maxPatternLength) return { ok: false, error: `is ${pattern.length} characters, longer than the ${maxPatternLength}-character limit for a regular expression` };
  try {
    const re = new RE2(pattern, options.ignoreCase ? 'iu' : 'u');
    return { ok: true, regex: { source: pattern, test: (text) => re.test(text) } };
  } catch (error) {
    const message = (error as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    return { ok: false, error: `is not a regular expression RE2 accepts (linear time: no backreferences or lookaround): ${message}` };
  }
}

/** Compiles or throws: for patterns already validated when the manifest was loaded. */
export function safeRegex(pattern: string, options: { ignoreCase?: boolean } = {}): SafeRegex {
  const compiled = compileSafeRegex(pattern, options);
  if (!compiled.ok) throw new Error(`regular expression /${pattern}/ ${compiled.error}`);
  return compiled.regex;
}
