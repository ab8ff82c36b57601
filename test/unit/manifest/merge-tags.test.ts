import { describe, expect, it } from 'vitest';
import { parseYamlFile } from '../../../src/manifest/parse.js';
import { envYaml, loadOne, problemsOf, serviceYaml } from './support.js';

const env = envYaml();
const common = `services:
  base:
    image: busybox:1.35
    user: "1000"
    ports: ["127.0.0.1:8080:80"]
    environment: { TZ: utc, PORT: "80", DEBUG: "1" }
    volumes: ["data:/data", "logs:/logs"]
    deploy: { resources: { limits: { memory: 64m, cpus: 0.5 } } }
    healthcheck: { test: ["CMD", "true"], interval: 5s, retries: 3 }
`;
const web = (extra: string) => `apiVersion: stagecoach/v1\nkind: Service\nname: web\nextends: { file: common.yml, service: base }\n${extra}`;
const load = (extra: string, base = common) => loadOne({ 'environments/testing/environment.yaml': env, 'environments/testing/common.yml': base, 'environments/testing/web.yaml': web(extra) });

describe("compose's merge tags in extends: !reset removes what the base passes on, !override replaces it whole", () => {
  it('without tags the base merges in (the baseline the tags change)', async () => {
    const s = (await load('')).services[0]!.spec;
    expect(s.ports.map((p) => p.published)).toEqual([8080]);
    expect(s.environment).toEqual({ TZ: 'utc', PORT: '80', DEBUG: '1' });
  });

  it.each([
    ['ports: !reset []', (s: any) => expect(s.ports).toEqual([])],
    ['ports: !reset', (s: any) => expect(s.ports).toEqual([])],
    ['user: !reset null', (s: any) => expect(s.options?.user).toBeUndefined()],
    ['healthcheck: !reset {}', (s: any) => expect(s.healthcheck).toBeNull()],
    ['environment: { DEBUG: !reset null, MODE: web }', (s: any) => expect(s.environment).toEqual({ TZ: 'utc', PORT: '80', MODE: 'web' })],
    ['environment: !override { MODE: web }', (s: any) => expect(s.environment).toEqual({ MODE: 'web' })],
    ['volumes: !override ["cache:/cache"]', (s: any) => expect(s.volumes.map((v: any) => v.target)).toEqual(['/cache'])],
    ['deploy: { resources: { limits: !override { memory: 32m } } }', (s: any) => expect([s.resources?.memoryBytes, s.resources?.nanoCpus]).toEqual([32 * 1024 * 1024, null])],
    ['deploy: { resources: { limits: { cpus: !override 0.25 } } }', (s: any) => expect(s.resources?.nanoCpus).toBe(250_000_000)],
  ])('%s', async (extra, check) => {
    check((await load(`${extra}\n`)).services[0]!.spec);
  });

  it('a base file shared by two services is not changed by one of them resetting a field', async () => {
    const loaded = await loadOne({
      'environments/testing/environment.yaml': env,
      'environments/testing/common.yml': common.replace('    ports: ["127.0.0.1:8080:80"]\n', ''),
      'environments/testing/web.yaml': web('environment: { DEBUG: !reset null }\n'),
      'environments/testing/api.yaml': 'apiVersion: stagecoach/v1\nkind: Service\nname: api\nextends: { file: common.yml, service: base }\n',
    });
    const byName = Object.fromEntries(loaded.services.map((s) => [s.name, s.spec.environment]));
    expect(byName).toEqual({ api: { TZ: 'utc', PORT: '80', DEBUG: '1' }, web: { TZ: 'utc', PORT: '80' } });
  });

  it('in a base that itself extends, its tags act on its own base', async () => {
    const chained = `${common}  app:\n    extends: base\n    ports: !reset []\n    environment: !override { ONLY: app }\n`;
    const loaded = await loadOne({ 'environments/testing/environment.yaml': env, 'environments/testing/common.yml': chained, 'environments/testing/web.yaml': web('').replace('service: base', 'service: app') });
    const s = loaded.services[0]!.spec;
    expect([s.ports, s.environment]).toEqual([[], { ONLY: 'app' }]);
  });

  it('outside extends, !reset removes its field and !override changes nothing', async () => {
    const loaded = await loadOne({ 'environments/testing/environment.yaml': env, 'environments/testing/web.yaml': serviceYaml('web', 'user: !reset nobody\nenvironment: !override { A: "1" }\n') });
    expect([loaded.services[0]!.spec.options?.user, loaded.services[0]!.spec.environment]).toEqual([undefined, { A: '1' }]);
  });

  it.each([
    ['on a list item', 'command: ["sleep", !reset "1"]\n', /web\.yaml:5:27: !reset applies to a field's value \(compose's merge rules for extends\), not to a list item or a whole document/],
    ['another tag is still refused', 'command: !shell "sleep 1"\n', /web\.yaml:5:10: unsupported YAML tag !shell: the only tags allowed in manifests are compose's !reset and !override/],
  ])('refuses a merge tag %s, naming file, line and column', async (_name, extra, expected) => {
    const problems = await problemsOf({ 'environments/testing/environment.yaml': env, 'environments/testing/web.yaml': serviceYaml('web', extra) });
    expect(problems.join('\n')).toMatch(expected);
  });

  it('records where the tags are, as paths from the document root', () => {
    const parsed = parseYamlFile('f.yaml', 'a: !reset []\nb:\n  c: !override { x: 1 }\n  d: !override 2\n');
    expect(parsed.problems).toEqual([]);
    expect(parsed.documents[0]!.merge).toEqual({ reset: [['a']], override: [['b', 'c'], ['b', 'd']] });
    expect(parsed.documents[0]!.value).toEqual({ a: [], b: { c: { x: 1 }, d: 2 } });
  });
});
