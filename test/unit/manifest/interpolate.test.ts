import { describe, expect, it } from 'vitest';
import { interpolate } from '../../../src/manifest/interpolate.js';
import { loadOne, problemsOf, repoWith, serviceYaml } from './support.js';

const values: Record<string, string> = { TAG: '1.35', EMPTY: '', HOST: 'db', PORT: '5432' };
const scope = { lookup: (name: string) => values[name], isSecret: (name: string) => /PASSWORD|TOKEN/i.test(name) };

describe('interpolate (compose syntax)', () => {
  it.each([
    ['plain text', 'plain text'],
    ['busybox:${TAG}', 'busybox:1.35'],
    ['busybox:$TAG', 'busybox:1.35'],
    ['$HOST:$PORT', 'db:5432'],
    ['${MISSING:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY-fallback}', ''],
    ['${MISSING-fallback}', 'fallback'],
    ['${HOST:+set}', 'set'],
    ['${EMPTY:+set}', ''],
    ['${EMPTY+set}', 'set'],
    ['${MISSING+set}', ''],
    ['${MISSING:-${HOST}:${PORT}}', 'db:5432'],
    ['$$HOME and $${X}', '$HOME and ${X}'],
    ['cost: 5 $', 'cost: 5 $'],
    ['${HOST:?need a host}', 'db'],
  ])('%s → %s', (text, value) => {
    expect(interpolate(text, scope)).toEqual({ ok: true, value });
  });

  it.each([
    ['${DB_PASSWORD}', 'DB_PASSWORD'],
    ['$API_TOKEN', 'API_TOKEN'],
    ['${DB_PASSWORD:-changeme}', 'DB_PASSWORD'],
  ])('%s is a secret reference', (text, secret) => {
    expect(interpolate(text, scope)).toEqual({ ok: true, secret });
  });

  it.each([
    ['x-${MISSING}', 2, 'uses ${MISSING}, which is not set'],
    ['${MISSING:?set it in .env}', 0, 'requires ${MISSING}: set it in .env'],
    ['${EMPTY:?must not be empty}', 0, 'requires ${EMPTY}: must not be empty'],
    ['${MISSING?}', 0, 'requires ${MISSING}'],
    ['pg://u:${DB_PASSWORD}@db', 7, 'inside a longer value'],
    ['${TAG', 0, 'unclosed'],
    ['${1BAD}', 0, 'invalid variable reference'],
  ])('%s fails at %i', (text, index, message) => {
    const result = interpolate(text, scope);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.index).toBe(index);
      expect(result.message).toContain(message);
    }
  });
});

const T = 'environments/testing';

describe('interpolation in manifests', () => {
  it('takes values from the environment folder .env, re-types plain scalars and keeps $$', async () => {
    const env = await loadOne(
      repoWith({
        [`${T}/.env`]: 'TAG=1.35\nREPLICAS=2\nLEVEL=1.10\n',
        [`${T}/web.yaml`]: serviceYaml(
          'web',
          'deploy:\n  replicas: ${REPLICAS:-1}\nenvironment:\n  LEVEL: ${LEVEL}\n  LITERAL: "$$HOME"\n  DB_PASSWORD: ${DB_PASSWORD}\n  - ignored\n'.replace('  - ignored\n', ''),
          'busybox:${TAG}',
        ),
      }),
    );
    const web = env.services[0]!;
    expect(web.spec.image).toBe('busybox:1.35');
    expect(web.replicas).toBe(2);
    expect(web.spec.environment).toEqual({ LEVEL: '1.10', LITERAL: '$HOME', DB_PASSWORD: { secret: 'DB_PASSWORD' } });
  });

  it('list-form environment: secrets, values from .env for bare names, multi-line values', async () => {
    const env = await loadOne(
      repoWith({
        [`${T}/.env`]: 'REGION=eu\n',
        [`${T}/web.yaml`]: serviceYaml('web', 'environment:\n  - REGION\n  - DB_PASSWORD=${DB_PASSWORD}\n  - API_TOKEN\n  - |-\n    MOTD=line one\n    line two\n'),
      }),
    );
    expect(env.services[0]!.spec.environment).toEqual({ REGION: 'eu', DB_PASSWORD: { secret: 'DB_PASSWORD' }, API_TOKEN: { secret: 'API_TOKEN' }, MOTD: 'line one\nline two' });
  });

  it('secret references inside an x- fragment merged into environment', async () => {
    const yaml = serviceYaml('web', 'x-env: &env\n  DB_PASSWORD: ${DB_PASSWORD}\n  LEVEL: info\nenvironment:\n  <<: *env\n  EXTRA: "1"\n');
    const env = await loadOne(repoWith({ [`${T}/web.yaml`]: yaml }));
    expect(env.services[0]!.spec.environment).toEqual({ DB_PASSWORD: { secret: 'DB_PASSWORD' }, LEVEL: 'info', EXTRA: '1' });
  });

  it('environment-level variables win over .env; secret-looking ones are refused', async () => {
    const files = repoWith({
      [`${T}/environment.yaml`]: 'apiVersion: stagecoach/v1\nkind: Environment\nname: testing\nvariables:\n  TAG: "1.35"\n',
      [`${T}/.env`]: 'TAG=1.34\nLEVEL=info\n',
      [`${T}/web.yaml`]: serviceYaml('web', 'environment:\n  LEVEL: ${LEVEL}\n', 'busybox:${TAG}'),
    });
    const env = await loadOne(files);
    expect(env.services[0]!.spec.image).toBe('busybox:1.35');
    expect(env.services[0]!.spec.environment).toEqual({ LEVEL: 'info' });
    const problems = await problemsOf({ ...files, [`${T}/environment.yaml`]: 'apiVersion: stagecoach/v1\nkind: Environment\nname: testing\nvariables:\n  API_TOKEN: abc\n' });
    expect(problems).toEqual([expect.stringContaining('/variables/API_TOKEN defines API_TOKEN, whose name looks secret')]);
  });

  it('never reads the daemon host environment', async () => {
    process.env.STAGECOACH_TEST_LEAK = 'leaked';
    const problems = await problemsOf(repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'environment:\n  A: ${STAGECOACH_TEST_LEAK}\n') }));
    delete process.env.STAGECOACH_TEST_LEAK;
    expect(problems).toEqual([`${T}/web.yaml:6:6: /environment/A uses \${STAGECOACH_TEST_LEAK}, which is not set in the environment's .env (give a default with \${STAGECOACH_TEST_LEAK:-value})`]);
  });

  it.each([
    ['an unset variable, located at its $', serviceYaml('web', 'labels:\n  tier: "front-${TIER}"\n'), `${T}/web.yaml:6:16: /labels/tier uses \${TIER}, which is not set`],
    ['a required variable with its message', serviceYaml('web', '', '${IMAGE:?set IMAGE in .env}'), `${T}/web.yaml:4:8: /image requires \${IMAGE}: set IMAGE in .env`],
    ['a bare name that is not in .env', serviceYaml('web', 'environment:\n  REGION:\n'), `${T}/web.yaml:6:10: /environment/REGION REGION has no value and is not set in the environment's .env`],
    ['a secret-looking variable outside environment', serviceYaml('web', 'command: ["run", "${API_TOKEN}"]\n'), `${T}/web.yaml:5:19: /command/1 uses \${API_TOKEN}, whose name looks secret`],
  ])('%s', async (_name, yaml, expected) => {
    const problems = await problemsOf(repoWith({ [`${T}/web.yaml`]: yaml }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(expected);
  });

  it('refuses a secret-looking name defined in .env, naming its line', async () => {
    const problems = await problemsOf(repoWith({ [`${T}/.env`]: 'A=1\nDB_PASSWORD=hunter2\n' }));
    expect(problems).toEqual([expect.stringContaining(`${T}/.env:2:1: defines DB_PASSWORD, whose name looks secret`)]);
    expect(problems.join()).not.toContain('hunter2');
  });

  it('a dependency whose manifest is invalid is not called unknown', async () => {
    const problems = await problemsOf(
      repoWith({ [`${T}/db.yaml`]: serviceYaml('db', 'image: ${DB_IMAGE}\n', '').replace('image: \n', ''), [`${T}/web.yaml`]: serviceYaml('web', 'depends_on: [db]\n') }),
    );
    expect(problems).toEqual([expect.stringContaining('uses ${DB_IMAGE}, which is not set')]);
  });
});

describe('anchors, merge keys and x- fragments', () => {
  it('merges x- fragments into services, nested and in lists, local keys winning', async () => {
    const yaml = `apiVersion: stagecoach/v1
kind: Service
x-common: &common
  restart: always
  labels: &labels
    team: shop
  environment:
    LEVEL: info
x-limits: &limits
  resources:
    limits: { memory: 64mb }
<<: *common
name: web
image: busybox:1.35
environment:
  <<: { LEVEL: warn, REGION: eu }
  LEVEL: debug
deploy:
  <<: [*limits]
  replicas: 2
`;
    const env = await loadOne(repoWith({ [`${T}/web.yaml`]: yaml }));
    const web = env.services[0]!;
    expect(web.spec.restart).toBe('always');
    expect(web.spec.labels).toEqual({ team: 'shop' });
    expect(web.spec.environment).toEqual({ LEVEL: 'debug', REGION: 'eu' });
    expect(web.spec.resources.memoryBytes).toBe(64 * 1024 * 1024);
    expect(web.replicas).toBe(2);
  });

  it('still refuses alias bombs and duplicate keys beside merge keys', async () => {
    const dup = await problemsOf(repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'x-a: &a { restart: always }\n<<: *a\nrestart: "no"\nrestart: always\n') }));
    expect(dup.join('\n')).toContain('duplicate key');
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const bomb = await problemsOf(repoWith({ [`${T}/web.yaml`]: serviceYaml('web', `x-bomb:\n  ${lines.join('\n  ')}\n`) }));
    expect(bomb.join('\n')).toContain('too many alias expansions');
  });
});
