import { describe, expect, it } from 'vitest';
import { mergeService } from '../../../src/manifest/extends-merge.js';
import { envYaml, loadOne, problemsOf, serviceYaml } from './support.js';

describe('extends merge rules (compose services.md "Merging service definitions")', () => {
  it.each([
    ['a scalar: the main value wins', { user: 'root', image: 'a' }, { user: 'app' }, { user: 'app', image: 'a' }],
    ['a scalar only in the base is kept', { working_dir: '/srv' }, {}, { working_dir: '/srv' }],
    ['environment maps merge, main wins', { environment: { TZ: 'utc', PORT: 80 } }, { environment: { PORT: 8080 } }, { environment: { TZ: 'utc', PORT: 8080 } }],
    ['environment list and map forms merge to a map', { environment: ['TZ=utc', 'PORT=80', 'FROM_DOTENV'] }, { environment: { PORT: '8080' } }, { environment: { TZ: 'utc', PORT: '8080', FROM_DOTENV: null } }],
    ['labels merge', { labels: ['a=1', 'b=2'] }, { labels: ['b=3'] }, { labels: { a: '1', b: '3' } }],
    ['extra_hosts merge by host (HOST:IP and HOST=IP)', { extra_hosts: ['db:10.0.0.1', 'cache=10.0.0.2'] }, { extra_hosts: { db: '10.0.0.9' } }, { extra_hosts: { db: '10.0.0.9', cache: '10.0.0.2' } }],
    ['volumes: one per target, the main replaces the base', { volumes: ['common:/var/lib/data:rw', '/cache'] }, { volumes: ['cli:/var/lib/data:ro', 'logs:/logs'] }, { volumes: ['cli:/var/lib/data:ro', '/cache', 'logs:/logs'] }],
    ['volumes long and short forms share a target', { volumes: [{ type: 'volume', source: 'a', target: '/d' }] }, { volumes: ['b:/d'] }, { volumes: ['b:/d'] }],
    ['ports: distinct bindings add up', { ports: ['8080:80'] }, { ports: ['8443:443'] }, { ports: ['8080:80', '8443:443'] }],
    ['ports: the same binding once', { ports: ['8080:80'] }, { ports: ['8080:80'] }, { ports: ['8080:80'] }],
    ['secrets: one per target', { secrets: ['db', { source: 'x', target: 'api' }] }, { secrets: [{ source: 'db', mode: '0400' }, 'api'] }, { secrets: [{ source: 'db', mode: '0400' }, 'api'] }],
    ['configs: one per target', { configs: ['motd'] }, { configs: [{ source: 'motd2', target: '/motd' }] }, { configs: [{ source: 'motd2', target: '/motd' }] }],
    ['devices: one per container path', { devices: ['/dev/a:/dev/x'] }, { devices: ['/dev/b:/dev/x', '/dev/c'] }, { devices: ['/dev/b:/dev/x', '/dev/c'] }],
    ['cap_add: combined, duplicates removed', { cap_add: ['NET_ADMIN', 'SYS_TIME'] }, { cap_add: ['NET_ADMIN', 'CHOWN'] }, { cap_add: ['NET_ADMIN', 'SYS_TIME', 'CHOWN'] }],
    ['expose: combined, duplicates removed', { expose: ['3000'] }, { expose: ['3000', '4000'] }, { expose: ['3000', '4000'] }],
    ['security_opt: combined', { security_opt: ['label=role:ROLE'] }, { security_opt: ['label=user:USER'] }, { security_opt: ['label=role:ROLE', 'label=user:USER'] }],
    ['dns: combined, duplicates kept, a string is a list of one', { dns: '10.0.0.53' }, { dns: ['10.0.0.53', '1.1.1.1'] }, { dns: ['10.0.0.53', '10.0.0.53', '1.1.1.1'] }],
    ['env_file: combined', { env_file: 'a.env' }, { env_file: ['b.env'] }, { env_file: ['a.env', 'b.env'] }],
    ['tmpfs: combined', { tmpfs: ['/run'] }, { tmpfs: '/tmp' }, { tmpfs: ['/run', '/tmp'] }],
    ['command is replaced, never combined', { command: ['echo', 'foo'] }, { command: ['echo', 'bar'] }, { command: ['echo', 'bar'] }],
    ['entrypoint is replaced', { entrypoint: ['a'] }, { entrypoint: 'b c' }, { entrypoint: 'b c' }],
    ['healthcheck merges, its test is replaced', { healthcheck: { test: ['CMD', 'a'], interval: '5s' } }, { healthcheck: { test: ['CMD', 'b'] } }, { healthcheck: { test: ['CMD', 'b'], interval: '5s' } }],
    ['deploy merges deeply', { deploy: { replicas: 2, resources: { limits: { memory: '64m', cpus: 0.5 } } } }, { deploy: { resources: { limits: { memory: '128m' } } } }, { deploy: { replicas: 2, resources: { limits: { memory: '128m', cpus: 0.5 } } } }],
    ['ulimits: one per limit, the main entry whole', { ulimits: { nofile: { soft: 1, hard: 2 }, nproc: 5 } }, { ulimits: { nofile: 9 } }, { ulimits: { nofile: 9, nproc: 5 } }],
    ['logging: options merge under the same driver', { logging: { driver: 'json-file', options: { 'max-size': '1m', 'max-file': '3' } } }, { logging: { options: { 'max-size': '5m' } } }, { logging: { driver: 'json-file', options: { 'max-size': '5m', 'max-file': '3' } } }],
    ['logging: another driver replaces the base', { logging: { driver: 'json-file', options: { 'max-size': '1m' } } }, { logging: { driver: 'local' } }, { logging: { driver: 'local' } }],
    ['networks (mapping) merge', { networks: { back: { aliases: ['a'] } } }, { networks: { front: null } }, { networks: { back: { aliases: ['a'] }, front: null } }],
    ['profiles (not a listed sequence) are replaced', { profiles: ['tools'] }, { profiles: ['web'] }, { profiles: ['web'] }],
    ['depends_on is never inherited', { depends_on: ['db'], image: 'a' }, {}, { image: 'a' }],
    ['depends_on of the main service stays', { depends_on: ['db'] }, { depends_on: ['cache'] }, { depends_on: ['cache'] }],
    ['volumes_from and links are never inherited', { volumes_from: ['x'], links: ['db'] }, {}, {}],
    ['the main extends is dropped', {}, { extends: 'base', user: 'a' }, { user: 'a' }],
  ])('%s', (_name, base, main, expected) => {
    expect(mergeService(base as Record<string, unknown>, main as Record<string, unknown>)).toEqual(expected);
  });
});

const env = envYaml('testing', 'networks:\n  back: {}\n');

describe('extends in the loader', () => {
  it('inherits from another Service of the environment; both deploy', async () => {
    const loaded = await loadOne({
      'environments/testing/environment.yaml': env,
      'environments/testing/base.yaml': serviceYaml('base', 'user: "1000"\nenvironment: { TZ: utc, PORT: "80" }\ndepends_on: [db]\n'),
      'environments/testing/db.yaml': serviceYaml('db'),
      'environments/testing/web.yaml': 'apiVersion: stagecoach/v1\nkind: Service\nname: web\nextends: base\nenvironment: { PORT: "8080" }\n',
    });
    const web = loaded.services.find((s) => s.name === 'web')!;
    expect(web.spec.image).toBe('busybox:1.35');
    expect(web.spec.environment).toEqual({ TZ: 'utc', PORT: '8080' });
    expect(web.spec.options?.user).toBe('1000');
    expect(web.dependsOn).toEqual({});
    expect(loaded.services.map((s) => s.name).sort()).toEqual(['base', 'db', 'web']);
  });

  it('reads a compose file elsewhere in the repo, interpolated, with its relative paths rebased; it is not a manifest', async () => {
    const loaded = await loadOne({
      'environments/testing/environment.yaml': env,
      'environments/testing/.env': 'TAG=1.35\n',
      'environments/testing/web.yaml': 'apiVersion: stagecoach/v1\nkind: Service\nname: web\nextends: { file: ../../shared/common.yml, service: app }\ncommand: ["sleep", "1"]\n',
      'shared/common.yml': 'services:\n  base:\n    image: busybox:${TAG}\n    working_dir: /srv\n  app:\n    extends: base\n    volumes: ["./app.conf:/etc/app.conf:ro"]\n    env_file: ./app.env\n    command: ["false"]\n',
      'shared/app.conf': 'listen 80\n',
      'shared/app.env': 'MODE=shared\n',
    });
    const web = loaded.services[0]!;
    expect(web.spec.image).toBe('busybox:1.35');
    expect(web.spec.command).toEqual(['sleep', '1']);
    expect(web.spec.options?.workingDir).toBe('/srv');
    expect(web.spec.environment).toEqual({ MODE: 'shared' });
    expect(web.spec.files?.map((f) => [f.target, f.from])).toEqual([['/etc/app.conf', 'shared/app.conf']]);
  });

  it('a compose file in the environment folder is data, not a manifest', async () => {
    const loaded = await loadOne({
      'environments/testing/environment.yaml': env,
      'environments/testing/common.yml': 'services:\n  app:\n    image: busybox:1.35\n    user: nobody\n',
      'environments/testing/web.yaml': 'apiVersion: stagecoach/v1\nkind: Service\nname: web\nextends: { file: common.yml, service: app }\n',
    });
    expect(loaded.services.map((s) => [s.name, s.spec.options?.user])).toEqual([['web', 'nobody']]);
  });

  it.each([
    ['a file outside the repo', 'extends: { file: ../../../etc/compose.yml, service: app }', /web\.yaml:\d+:\d+: \/extends\/file must be a path inside the config repo, relative to environments\/testing\/web\.yaml \(got "\.\.\/\.\.\/\.\.\/etc\/compose\.yml"\): refused, not read/],
    ['an absolute file', 'extends: { file: /etc/compose.yml, service: app }', /\/extends\/file must be a path inside the config repo/],
    ['a missing file', 'extends: { file: nope.yml, service: app }', /\/extends\/file names environments\/testing\/nope\.yml, which does not exist/],
    ['an unknown service of the environment', 'extends: bsae', /\/extends names service "bsae", which no Service manifest of this environment defines \(services here: base\); did you mean "base"\?/],
    ['an unknown service of a compose file', 'extends: { file: ../../shared/c.yml, service: ap }', /\/extends\/service names service "ap", which shared\/c\.yml does not define \(services there: app\); did you mean "app"\?/],
    ['a bad shape', 'extends: { service: base, path: x }', /\/extends must be a service name, or a mapping \{ service, file \} \(got "path"\)/],
    ['itself', 'extends: web', /\/extends forms a cycle: web \(environments\/testing\/web\.yaml\) → web/],
  ])('refuses %s, naming file, field and value', async (_name, ext, expected) => {
    const problems = await problemsOf({
      'environments/testing/environment.yaml': env,
      'environments/testing/base.yaml': serviceYaml('base'),
      'environments/testing/web.yaml': `apiVersion: stagecoach/v1\nkind: Service\nname: web\n${ext}\n`,
      'shared/c.yml': 'services:\n  app:\n    image: busybox:1.35\n',
    });
    expect(problems.join('\n')).toMatch(expected);
    expect(problems.join('\n')).not.toMatch(/image is required|not a known field/);
  });

  it('names a cycle through several services and files', async () => {
    const problems = await problemsOf({
      'environments/testing/environment.yaml': env,
      'environments/testing/a.yaml': 'apiVersion: stagecoach/v1\nkind: Service\nname: a\nextends: { file: ../../shared/c.yml, service: x }\n',
      'shared/c.yml': 'services:\n  x:\n    extends: y\n  y:\n    extends: { file: ../environments/testing/a.yaml, service: a }\n',
    });
    expect(problems.join('\n')).toMatch(/forms a cycle: a \(environments\/testing\/a\.yaml\) → x \(shared\/c\.yml\) → y \(shared\/c\.yml\) → a \(environments\/testing\/a\.yaml\)/);
  });

  it.each([
    ['a sequence item (the schema passes, normalize refuses)', '    ports:\n      - "99999:80"\n', /^shared\/c\.yml:5:9: \/ports\/0 is not a valid port mapping/],
    ['a scalar (the schema refuses)', '    restart: sometimes\n', /^shared\/c\.yml:4:14: \/restart must be one of/],
  ])('a bad inherited value is reported where the base wrote it: %s', async (_name, field, expected) => {
    const problems = await problemsOf({
      'environments/testing/environment.yaml': env,
      'environments/testing/web.yaml': 'apiVersion: stagecoach/v1\nkind: Service\nname: web\nextends: { file: ../../shared/c.yml, service: app }\nports: ["8080:80"]\n',
      'shared/c.yml': `services:\n  app:\n    image: busybox:1.35\n${field}`,
    });
    expect(problems).toContainEqual(expect.stringMatching(expected));
  });

  it('refuses healthcheck.disable over a base healthcheck, as compose does', async () => {
    const problems = await problemsOf({
      'environments/testing/environment.yaml': env,
      'environments/testing/base.yaml': serviceYaml('base', 'healthcheck: { test: ["CMD", "true"] }\n'),
      'environments/testing/web.yaml': 'apiVersion: stagecoach/v1\nkind: Service\nname: web\nextends: base\nhealthcheck: { disable: true }\n',
    });
    expect(problems.join('\n')).toMatch(/web\.yaml:\d+:\d+: \/healthcheck\/disable cannot disable the healthcheck that service "base"/);
  });
});

describe('extends: problems of a base of the environment', () => {
  it('are reported once, where the base wrote them', async () => {
    const problems = await problemsOf({
      'environments/testing/environment.yaml': envYaml(),
      'environments/testing/base.yaml': serviceYaml('base', 'restart: sometimes\n'),
      'environments/testing/web.yaml': 'apiVersion: stagecoach/v1\nkind: Service\nname: web\nextends: base\n',
    });
    expect(problems).toEqual([expect.stringMatching(/^environments\/testing\/base\.yaml:5:10: \/restart must be one of/)]);
  });
});
