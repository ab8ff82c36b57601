import { describe, expect, it } from 'vitest';
import { compileSafeRegex, maxInputChars, regexEngine, regexProblem, testSafeRegex } from '../../../src/policy/regex.js';

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

describe('regexEngine: V8 runs only one alternation of plain words; RE2 (loaded when first needed) everything else', () => {
  it.each<[string, 'v8' | 're2']>([
    ['(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|CREDENTIALS)', 'v8'],
    ['^(?:main|release-1)$', 'v8'],
    ['TOKEN', 'v8'],
    ['a b|c-d', 'v8'],
    ['(a|a)(a|a)(a|a)$', 're2'], // two groups in a row backtrack exponentially in V8
    ['((a|b))', 're2'],
    ['(a+)+$', 're2'],
    ['a.b', 're2'],
    ['[ab]', 're2'],
    ['\\d', 're2'],
    ['(a)\\1', 're2'],
    ['(?=a)', 're2'],
    ['a|', 're2'],
    ['', 're2'],
  ])('%j runs on %s', (pattern, engine) => {
    expect(regexEngine(pattern)).toBe(engine);
  });

  it.each<[string, boolean, string, (string | undefined)[] | null, number]>([
    ['(PASSWORD|TOKEN)', true, 'db_password', ['password', 'password'], 1],
    ['(PASSWORD|TOKEN)', true, 'DB_HOST', null, 1],
    ['^(?:main|next)$', false, 'main', ['main'], 0],
    ['^(?:main|next)$', false, 'mainline', null, 0],
    ['(a)|(b)', false, 'b', ['b', undefined, 'b'], 2],
  ])('/%s/ (ignoreCase %s) on %j gives the same as RE2 would', (pattern, ignoreCase, input, match, groups) => {
    const compiled = compileSafeRegex(pattern, { ignoreCase });
    if (!compiled.ok) throw new Error(compiled.error);
    expect(compiled.regex.test(input)).toBe(match !== null);
    expect(compiled.regex.exec(input) ?? null).toEqual(match);
    expect(compiled.regex.groups).toBe(groups);
    compiled.regex.dispose();
    expect(() => compiled.regex.test(input)).toThrow(/was used after dispose\(\)/);
  });

  it('an unbalanced plain-looking pattern is refused in RE2’s words', () => {
    expect(compileSafeRegex('(a|b')).toEqual({ ok: false, error: expect.stringMatching(/^is not a regular expression RE2 accepts/) });
  });
});

describe('regexProblem and testSafeRegex remember what they compiled', () => {
  it('gives the same refusal every time it is asked', () => {
    const first = regexProblem('(a)\\1');
    expect(first).toMatch(/RE2 accepts/);
    expect(regexProblem('(a)\\1')).toBe(first);
    expect(regexProblem('^ok$')).toBeUndefined();
    expect(regexProblem('^ok$')).toBeUndefined();
  });

  it('answers right while more patterns than it keeps take turns', () => {
    const patterns = ['^A', '^B', '^C', '^D', '^E', '^F'];
    for (let round = 0; round < 3; round++) {
      for (const p of patterns) {
        expect(testSafeRegex(p, { ignoreCase: true }, `${p.slice(1).toLowerCase()}x`)).toBe(true);
        expect(testSafeRegex(p, {}, `${p.slice(1).toLowerCase()}x`)).toBe(false);
        expect(testSafeRegex(p, {}, 'zzz')).toBe(false);
      }
    }
  });

  it('throws on a pattern RE2 refuses', () => {
    expect(() => testSafeRegex('(?=x)', {}, 'x')).toThrow(/regular expression \/\(\?=x\)\/ is not a regular expression RE2 accepts/);
  });
});
