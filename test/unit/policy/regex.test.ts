import { describe, expect, it } from 'vitest';
import { compileSafeRegex, maxInputChars } from '../../../src/policy/regex.js';

describe('compileSafeRegex: exec and groups (the one RE2 wrapper, shared by policies, checks and image tags)', () => {
  it.each<[string, string, (string | undefined)[] | null, number]>([
    ['main-(\\d+)-[0-9a-f]+', 'main-1042-3fa9c1e', ['main-1042-3fa9c1e', '1042'], 1],
    ['(a)|(b)', 'b', ['b', undefined, 'b'], 2],
    ['(?:x)y', 'xy', ['xy'], 0],
    ['(\\d+)', 'none here', null, 1],
  ])('/%s/ on %j', (pattern, input, match, groups) => {
    const compiled = compileSafeRegex(pattern);
    if (!compiled.ok) throw new Error(compiled.error);
    expect(compiled.regex.exec(input)).toEqual(match === null ? null : expect.arrayContaining(match));
    expect(compiled.regex.exec(input)?.length ?? null).toBe(match?.length ?? null);
    expect(compiled.regex.groups).toBe(groups);
    compiled.regex.dispose();
  });

  it('matches only the first maxInputChars characters, and refuses use after dispose', () => {
    const compiled = compileSafeRegex('(needle)$');
    if (!compiled.ok) throw new Error(compiled.error);
    expect(compiled.regex.exec(`${'a'.repeat(maxInputChars)}needle`)).toBeNull();
    expect(compiled.regex.exec(`${'a'.repeat(10)}needle`)?.[1]).toBe('needle');
    compiled.regex.dispose();
    expect(() => compiled.regex.exec('needle')).toThrow(/was used after dispose\(\)/);
  });

  it('a per-caller length limit is named in the refusal', () => {
    expect(compileSafeRegex('x'.repeat(20), { maxLength: 10 })).toEqual({ ok: false, error: 'is 20 characters, longer than the 10-character limit for a regular expression' });
  });
});
