import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diskRepo } from '../../../src/manifest/files.js';
import { loadRepo } from '../../../src/manifest/load.js';
import { parseYamlFile } from '../../../src/manifest/parse.js';
import { formatProblem } from '../../../src/manifest/problem.js';
import { capList } from '../../../src/policy/cap-list.js';
import { compileSafeRegex, maxInputChars, withSafeRegex } from '../../../src/policy/regex.js';
import { isSecretName, secretNamePattern } from '../../../src/policy/secret-name.js';
import { hostSecrets } from '../../../src/reconcile/secrets.js';
import { envYaml, problemsOf, repoWith, serviceYaml, validators } from '../manifest/support.js';

const F = 'environments/testing';
const tmp = () => mkdtemp(path.join(tmpdir(), 'stagecoach-hostile-'));

describe('regular expressions from the repo run in linear time (finding 4)', () => {
  // Under a backtracking engine each extra character doubles the work: 40 characters would take days, so these tests finish only on RE2.
  const evil = '(a+)+$';
  const name = `${'A'.repeat(40)}!`;

  it('policy.secretNames "(a+)+$" against a 41-character variable name', async () => {
    const files = repoWith({ [`${F}/environment.yaml`]: envYaml('testing', `policy:\n  secretNames: "${evil}"\n`), [`${F}/web.yaml`]: serviceYaml('web', `environment:\n  ${name.slice(0, -1)}_X: plain\n`) });
    expect(await problemsOf(files)).toEqual([]);
  });

  it('bodyRegex is matched by RE2 against whatever body the service returns', () => {
    expect(withSafeRegex(evil, {}, (re) => re.test(`${'a'.repeat(100_000)}!`))).toBe(false);
  });

  it('frees what it compiles: 4,000 compiles fit re2-wasm’s fixed 16 MiB heap (about 2,000 do without freeing), as do 10 MB bodies', async () => {
    for (let i = 0; i < 4_000; i++) withSafeRegex(`(PASSWORD|TOKEN)${i}`, { ignoreCase: true }, (re) => re.test('DB_PASSWORD'));
    expect(withSafeRegex('z$', {}, (re) => re.test(`${'a'.repeat(10_000_000)}z`))).toBe(false); // only the first maxInputChars are matched
    expect(withSafeRegex('^a+$', {}, (re) => re.test('a'.repeat(maxInputChars)))).toBe(true);
    expect(await problemsOf(repoWith({}))).toEqual([]);
    const compiled = compileSafeRegex('a');
    expect(compiled.ok).toBe(true);
    if (compiled.ok) {
      compiled.regex.dispose();
      expect(() => compiled.regex.test('a')).toThrow('was used after dispose()');
    }
  }, 60_000);

  it.each([
    ['a backreference', '(a)\\1', 'invalid escape sequence'],
    ['a lookahead', '(?=a)b', 'invalid perl operator'],
  ])('refuses %s at validation, saying why', async (_name, pattern, detail) => {
    const files = repoWith({ [`${F}/environment.yaml`]: envYaml('testing', `policy:\n  secretNames: '${pattern}'\ntests:\n  - name: t\n    http: { url: "http://web:80/", expect: { bodyRegex: '${pattern}' } }\n`) });
    const problems = await problemsOf(files);
    expect(problems).toHaveLength(2);
    for (const p of problems) expect(p).toMatch(new RegExp(`is not a regular expression RE2 accepts \\(linear time: no backreferences or lookaround\\): .*${detail}`));
  });
});

describe('secret names have one grammar and never leave the secrets folder (finding 2)', () => {
  it.each(['../x', '../../etc/shadow', '/etc/passwd', 'a/b', '.hidden', '..'])('refuses %s in a container test’s environment, as in a service', async (name) => {
    const files = repoWith({ [`${F}/environment.yaml`]: envYaml('testing', `tests:\n  - name: smoke\n    container: { image: busybox:1.35, environment: { T: { secret: "${name}" } } }\n`) });
    expect(await problemsOf(files)).toEqual([expect.stringMatching(new RegExp(`^${F}/environment.yaml:\\d+:\\d+: /tests/0/container/environment/T/secret must be a secret name`))]);
    expect(isSecretName(name)).toBe(false);
  });

  it('the environment and service schemas carry the same pattern', () => {
    const env = validators.schemas.Environment as { definitions: { envMap: { additionalProperties: { properties: { secret: { pattern: string } } } } } };
    const svc = validators.schemas.Service as { definitions: { secretRef: { properties: { secret: { pattern: string } } } } };
    expect(env.definitions.envMap.additionalProperties.properties.secret.pattern).toBe(secretNamePattern);
    expect(svc.definitions.secretRef.properties.secret.pattern).toBe(secretNamePattern);
  });

  it('the host secret source never reads a path outside its folder', async () => {
    const root = await tmp();
    await mkdir(path.join(root, 'secrets'));
    await writeFile(path.join(root, 'secrets', 'db'), 'in-folder\n');
    await writeFile(path.join(root, 'outside'), 'host file\n');
    const secrets = hostSecrets(path.join(root, 'secrets'), {});
    expect(secrets('db')).toBe('in-folder');
    expect(secrets('../outside')).toBeUndefined();
    expect(secrets(path.join(root, 'outside'))).toBeUndefined();
  });
});

describe('parsing never stalls (finding 6) and error lists are capped (finding 14)', () => {
  it('finds a duplicate among 40,000 keys of a 458 KiB manifest (a quadratic check took 35 s)', () => {
    const text = `environment:\n${Array.from({ length: 40_000 }, (_, i) => `  K${i}: v\n`).join('')}  K7: again\n`;
    const parsed = parseYamlFile('big.yaml', text);
    expect(parsed.problems.map((p) => `${p.line}: ${p.message}`)).toEqual(['40002: duplicate key: "K7" appears twice in the same mapping']);
  });

  it.each([
    ['a: 1\nb: 2\na: 3\n', ['3: duplicate key: "a" appears twice in the same mapping']],
    ['a: { x: 1, x: 2 }\nb: [ { y: 1 }, { y: 1, y: 2 } ]\n', ['1: duplicate key: "x" appears twice in the same mapping', '2: duplicate key: "y" appears twice in the same mapping']],
    ['"1": a\n1: b\n', []],
    ['x: 1\n"x": 2\n', ['2: duplicate key: "x" appears twice in the same mapping']],
  ])('duplicate keys in %j', (text, expected) => {
    expect(parseYamlFile('f.yaml', text).problems.map((p) => `${p.line}: ${p.message}`)).toEqual(expected);
  });

  it('lists the first 50 problems and counts the rest', () => {
    const capped = capList(Array.from({ length: 20_000 }, (_, i) => `environments/x/${i}.yaml: is empty`));
    expect(capped).toHaveLength(51);
    expect(capped[50]).toBe('… and 19950 more (20000 in all; run stagecoach validate for every one)');
    expect(capList(['a', 'b'])).toEqual(['a', 'b']);
  });
});

describe('reads stay in the repo (finding 8; markers and promotions are written from git objects, never through the working tree)', () => {
  it('refuses environments/ linked out of the repo without walking it', async () => {
    const root = await tmp();
    await mkdir(path.join(root, 'repo'));
    await symlink('/', path.join(root, 'repo', 'environments'));
    const result = await loadRepo(diskRepo(path.join(root, 'repo')), validators);
    expect(result.environments).toEqual([]);
    expect(result.problems.map(formatProblem)).toEqual(['environments: is a link that leaves the config repo (to /): refused, not read']);
  });
});
