import { RE2 } from 're2-wasm';

/**
 * A regular expression from the config repo, run by RE2: time linear in the
 * input, whatever the pattern (no backtracking, so `(a+)+$` cannot stall the
 * daemon). Backreferences and lookaround are not offered; the error says so.
 *
 * re2-wasm runs in a fixed 16 MiB WebAssembly heap that JavaScript's garbage
 * collector does not see: every compiled expression must be disposed, and
 * inputs are cut at maxInputChars, or the heap runs out and aborts.
 */
export interface SafeRegex {
  readonly source: string;
  /** Tests the first maxInputChars characters of `text`. */
  test(text: string): boolean;
  /** Capture groups of the first match in the first maxInputChars characters (index 0 the whole match), or null. */
  exec(text: string): (string | undefined)[] | null;
  /** How many capture groups the pattern has. */
  readonly groups: number;
  /** Frees the compiled program (idempotent). */
  dispose(): void;
}

export type CompiledRegex = { ok: true; regex: SafeRegex } | { ok: false; error: string };

/** Longest pattern accepted from a repo; RE2 compiles in time linear in it too. */
export const maxPatternLength = 1000;
/** Longest input matched (at most 2 MiB of UTF-8 in the 16 MiB heap). */
export const maxInputChars = 512 * 1024;

interface Wrapped {
  wrapper?: { delete(): void };
}

const free = (re: RE2) => (re as unknown as Wrapped).wrapper?.delete();

/** Counts capture groups with a probe RE2 cannot misread: the pattern or the empty string, which always matches. */
function countGroups(pattern: string, flags: string): number {
  const probe = new RE2(`${pattern}|`, flags);
  try {
    const match = probe.exec('');
    return match ? match.length - 1 : 0;
  } finally {
    free(probe);
  }
}

export function compileSafeRegex(pattern: string, options: { ignoreCase?: boolean; maxLength?: number } = {}): CompiledRegex {
  const limit = options.maxLength ?? maxPatternLength;
  if (pattern.length > limit) return { ok: false, error: `is ${pattern.length} characters, longer than the ${limit}-character limit for a regular expression` };
  let re: RE2;
  const flags = options.ignoreCase ? 'iu' : 'u';
  try {
    re = new RE2(pattern, flags);
  } catch (error) {
    const message = (error as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    return { ok: false, error: `is not a regular expression RE2 accepts (linear time: no backreferences or lookaround): ${message}` };
  }
  let disposed = false;
  let groups: number | undefined;
  const live = () => {
    if (disposed) throw new Error(`regular expression /${pattern}/ was used after dispose()`);
    return re;
  };
  const cut = (text: string) => (text.length > maxInputChars ? text.slice(0, maxInputChars) : text);
  return {
    ok: true,
    regex: {
      source: pattern,
      test: (text) => live().test(cut(text)),
      exec: (text) => live().exec(cut(text)) as (string | undefined)[] | null,
      get groups() {
        return (groups ??= countGroups(pattern, flags));
      },
      dispose: () => {
        if (disposed) return;
        disposed = true;
        free(re);
      },
    },
  };
}

/** Why a pattern is refused, or undefined when RE2 accepts it (the compiled program is freed at once). */
export function regexProblem(pattern: string, options: { ignoreCase?: boolean } = {}): string | undefined {
  const compiled = compileSafeRegex(pattern, options);
  if (!compiled.ok) return compiled.error;
  compiled.regex.dispose();
  return undefined;
}

/** Compiles (a pattern already validated when the manifest was loaded), runs `use`, and frees the program. */
export function withSafeRegex<T>(pattern: string, options: { ignoreCase?: boolean }, use: (regex: SafeRegex) => T): T {
  const compiled = compileSafeRegex(pattern, options);
  if (!compiled.ok) throw new Error(`regular expression /${pattern}/ ${compiled.error}`);
  try {
    return use(compiled.regex);
  } finally {
    compiled.regex.dispose();
  }
}
