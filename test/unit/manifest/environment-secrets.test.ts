import { describe, expect, it } from 'vitest';
import { importCompose } from '../../../src/manifest/compose-import.js';
import { envYaml, loadOne, problemsOf, serviceYaml, validators } from './support.js';

const web = serviceYaml('web', 'secrets: [db_password, api_key, plain, { source: tls, target: tls.pem }]\n');
const files = (secrets: string) => ({
  'environments/testing/environment.yaml': envYaml('testing', `secrets:\n${secrets}`),
  'environments/testing/web.yaml': web,
});

describe('environment-level secrets: where each value comes from on the daemon host', () => {
  it('external (own name or name:) and environment: VAR name the daemon-host secret; an undeclared one keeps its own name', async () => {
    const loaded = await loadOne(files('  db_password: { external: true }\n  api_key: { external: true, name: shop_api_key }\n  tls: { environment: SHOP_TLS }\n'));
    const mounts = loaded.services[0]!.spec.files!.map((f) => [f.target, f.secret]);
    expect(mounts).toEqual([
      ['/run/secrets/api_key', 'shop_api_key'],
      ['/run/secrets/db_password', 'db_password'],
      ['/run/secrets/plain', 'plain'],
      ['/run/secrets/tls.pem', 'SHOP_TLS'],
    ]);
  });

  it('which host secret a file comes from is part of the spec hash', async () => {
    const a = await loadOne(files('  api_key: { external: true, name: one }\n'));
    const b = await loadOne(files('  api_key: { external: true, name: two }\n'));
    expect(a.services[0]!.specHash).not.toBe(b.services[0]!.specHash);
  });

  it.each([
    ['a file in the repo', '  db_password: { file: ./db_password.txt }\n', /environment\.yaml:5:18: \/secrets\/db_password\/file is refused: secrets never live in git, where everyone who can read the config repo reads them \(got "\.\/db_password\.txt"\); provide db_password on the daemon host/],
    ['no source', '  db_password: {}\n', /\/secrets\/db_password must say where its value comes from on the daemon host: external: true/],
    ['both sources', '  db_password: { external: true, environment: X }\n', /\/secrets\/db_password takes external: true or environment: VAR, not both/],
    ['name without external', '  db_password: { environment: X, name: y }\n', /\/secrets\/db_password\/name applies with external: true only/],
    ['a path as host name', '  db_password: { external: true, name: ../etc/shadow }\n', /\/secrets\/db_password\/name must be a secret name/],
    ['an unknown field', '  db_password: { external: true, value: hunter2 }\n', /\/secrets\/db_password\/value is not a known field/],
  ])('refuses %s, naming file, field and value', async (_name, secrets, expected) => {
    expect((await problemsOf(files(secrets))).join('\n')).toMatch(expected);
  });
});

describe('import-compose carries top-level secrets', () => {
  it('external, environment and file sources; a file is not carried into git and is named', async () => {
    const text = 'services:\n  app:\n    image: busybox:1.35\n    secrets: [a, b, c]\nsecrets:\n  a: { file: ./a.txt }\n  b: { environment: APP_B }\n  c: { external: true, name: shared_c }\n';
    const result = await importCompose({ file: 'compose.yml', text, env: 'imp', readRelative: async () => undefined }, validators);
    expect(result.files['environments/imp/environment.yaml']).toMatch(/secrets:\n {2}a:\n {4}external: true\n {2}b:\n {4}environment: APP_B\n {2}c:\n {4}external: true\n {4}name: shared_c\n/);
    expect(result.secrets).toEqual(['APP_B', 'a', 'shared_c']);
    expect(result.dropped).toEqual([{ field: 'secrets.a.file', reason: 'not carried: secrets never live in git; provide a on the daemon host (declared external: true)' }]);
  });
});
