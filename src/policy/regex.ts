import { createRequire } from 'node:module';
import type { RE2 } from 're2-wasm';

/**
 * A regular expression from the config repo, run by RE2: time linear in the
 * input, whatever the pattern (no backtracking, so `(a+)+$` cannot stall the
 * daemon). Backreferences and lookaround are not offered; the error says so.
 *
 * re2-wasm runs in a fixed 16 MiB WebAssembly heap that JavaScript's garbage
 * collector does not see: every compiled expression must be disposed, and
 * inputs are cut at maxInputChars, or the heap runs out and aborts.
 *
 * A pattern that is one alternation of plain words (`(PASSWORD|TOKEN)`, the
 * default secret names: optionally anchored, in at most one group, with no
 * quantifier, class, escape, dot or nested group) tries each word once at
 * each position and never backtracks further, so V8 runs it; re2-wasm (about
 * 10 MB of resident memory) is loaded only when the first other pattern is
 * compiled. Two groups in a row are not plain: `(a|a)(a|a)…` backtracks
 * exponentially in V8.
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

const word = `[\\w ,:/=@#%&!~'"<>-]+`;
const words = `${word}(?:\\|${word})*`;
const plainAlternation = new RegExp(`^\\^?(?:\\((?:\\?:)?${words}\\)|${words})\\$?$`);

/** The engine a pattern runs on: 'v8' only for one alternation of plain words (see above), RE2 for everything else. */
export function regexEngine(pattern: string): 'v8' | 're2' {
  return plainAlternation.test(pattern) ? 'v8' : 're2';
}

// re2-wasm, loaded at the first pattern that needs it (a CommonJS package, so synchronously).
const load = createRequire(import.meta.url);
let re2: typeof import('re2-wasm') | undefined;
const newRE2 = (pattern: string, flags: string): RE2 => new (re2 ??= load('re2-wasm') as typeof import('re2-wasm')).RE2(pattern, flags);

/** What both engines offer: a compiled program, and freeing it (nothing to free for V8). */
interface Program {
  test(text: string): boolean;
  exec(text: string): (string | undefined)[] | null;
  free(): void;
}

function program(pattern: string, flags: string, engine = regexEngine(pattern)): Program {
  if (engine === 'v8') {
    try {
      const re = new RegExp(pattern, flags);
      return { test: (t) => re.test(t), exec: (t) => re.exec(t), free: () => undefined };
    } catch {
      // Unbalanced parentheses and the like: RE2 says why, in its words.
    }
  }
  const re = newRE2(pattern, flags);
  return { test: (t) => re.test(t), exec: (t) => re.exec(t) as (string | undefined)[] | null, free: () => (re as unknown as Wrapped).wrapper?.delete() };
}

/** Counts capture groups with a probe neither engine can misread: the pattern or the empty string, which always matches. */
function countGroups(pattern: string, flags: string): number {
  // An empty alternative added to a plain alternation keeps it plain.
  const probe = program(`${pattern}|`, flags, regexEngine(pattern));
  try {
    const match = probe.exec('');
    return match ? match.length - 1 : 0;
  } finally {
    probe.free();
  }
}

export function compileSafeRegex(pattern: string, options: { ignoreCase?: boolean; maxLength?: number } = {}): CompiledRegex {
  const limit = options.maxLength ?? maxPatternLength;
  if (pattern.length > limit) return { ok: false, error: `is ${pattern.length} characters, longer than the ${limit}-character limit for a regular expression` };
  let re: Program;
  const flags = options.ignoreCase ? 'iu' : 'u';
  try {
    re = program(pattern, flags);
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
      exec: (text) => {
        const match = live().exec(cut(text));
        return match ? [...match] : null;
      },
      get groups() {
        return (groups ??= countGroups(pattern, flags));
      },
      dispose: () => {
        if (disposed) return;
        disposed = true;
        re.free();
      },
    },
  };
}

/** Bounded memo of answers (pattern and flags → problem): a repo's few patterns are checked once per load of every service. */
const problems = new Map<string, string | undefined>();
const maxRemembered = 256;

/** Why a pattern is refused, or undefined when RE2 accepts it (the compiled program is freed at once; the answer is remembered). */
export function regexProblem(pattern: string, options: { ignoreCase?: boolean } = {}): string | undefined {
  const key = `${options.ignoreCase ? 'i' : ''}/${pattern}`;
  if (problems.has(key)) return problems.get(key);
  const compiled = compileSafeRegex(pattern, options);
  const problem = compiled.ok ? undefined : compiled.error;
  if (compiled.ok) compiled.regex.dispose();
  if (problems.size >= maxRemembered) problems.clear();
  problems.set(key, problem);
  return problem;
}

/** Compiled programs kept for testSafeRegex, oldest first; few, as RE2's live in re2-wasm's fixed heap. */
const kept = new Map<string, SafeRegex>();
const maxKept = 4;

/**
 * Tests `text` against a pattern already validated when the manifest was
 * loaded, keeping the last few compiled programs (a repo's secret-name
 * pattern is asked about for every variable of every service: under RE2 with
 * `iu`, a few ms per compile). Synchronous, so an evicted program is never in
 * use when it is freed.
 */
export function testSafeRegex(pattern: string, options: { ignoreCase?: boolean }, text: string): boolean {
  const key = `${options.ignoreCase ? 'i' : ''}/${pattern}`;
  let regex = kept.get(key);
  if (!regex) {
    const compiled = compileSafeRegex(pattern, options);
    if (!compiled.ok) throw new Error(`regular expression /${pattern}/ ${compiled.error}`);
    regex = compiled.regex;
    if (kept.size >= maxKept) {
      const [oldest, program] = kept.entries().next().value!;
      kept.delete(oldest);
      program.dispose();
    }
    kept.set(key, regex);
  }
  return regex.test(text);
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
