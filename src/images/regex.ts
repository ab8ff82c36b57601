import { createRequire } from 'node:module';

/** A compiled pattern that runs in time linear in its input (RE2: no backtracking, no backreferences). */
export interface LinearRegex {
  /** Capture groups of the first match (index 0 the whole match), or null. */
  exec(input: string): (string | undefined)[] | null;
  readonly groups: number;
  /** Frees the compiled program: re2-wasm's fixed heap is not garbage-collected (see src/policy/regex.ts). */
  dispose(): void;
}

interface Re2Like {
  exec(input: string): (RegExpExecArray & (string | undefined)[]) | null;
  source: string;
  wrapper?: { delete(): void };
}

const require = createRequire(import.meta.url);
const { RE2 } = require('re2-wasm') as { RE2: new (pattern: string, flags: string) => Re2Like };

/** Longest pattern accepted from a repo: bounds compile time and memory. */
export const maxPatternLength = 256;

/**
 * Compiles a repo writer's pattern with RE2 (re2-wasm), which refuses what
 * would need backtracking, so no tag list can make it run long.
 */
export function compileLinear(pattern: string): { ok: true; regex: LinearRegex } | { ok: false; reason: string } {
  if (pattern.length > maxPatternLength) return { ok: false, reason: `is longer than ${maxPatternLength} characters` };
  let re: Re2Like;
  try {
    re = new RE2(pattern, 'u');
  } catch (error) {
    const text = (error as Error).message.replace(/^Invalid regular expression: \/.*\/u: /s, '');
    return { ok: false, reason: `is not a pattern RE2 accepts (${text}); backreferences and lookaround are not supported` };
  }
  // Count groups with a probe RE2 cannot misread: an alternation that always matches the empty string.
  const prober = new RE2(`${pattern}|`, 'u');
  const probe = prober.exec('');
  prober.wrapper?.delete();
  const groups = probe ? probe.length - 1 : 0;
  let disposed = false;
  const dispose = () => {
    if (!disposed) re.wrapper?.delete();
    disposed = true;
  };
  return { ok: true, regex: { groups, exec: (input) => (re.exec(input) as (string | undefined)[] | null), dispose } };
}
