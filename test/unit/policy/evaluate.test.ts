import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../../src/policy/evaluate.js';
import { globMatch } from '../../../src/policy/glob.js';
import { grantFor } from '../../../src/policy/grant.js';
import { defaultPolicy } from '../../../src/policy/types.js';
import { toOperatorPolicy } from '../../../src/config/policy.js';
import { hostOptionsOf } from '../../../src/policy/host-options.js';
import type { ContainerSpec } from '../../../src/manifest/types.js';
import { envYaml, loadOne, repoWith, serviceYaml } from '../manifest/support.js';
import { fakeRealpath, refusals } from './support.js';

const F = 'environments/testing';

describe('operator policy: Docker targets (finding 1)', () => {
  it('refuses an endpoint the repo chose, naming the setting that would allow it', async () => {
    expect(await refusals(undefined, { env: 'target:\n  docker: tcp://attacker.example:2375\n' })).toEqual([
      `${F}/environment.yaml: /target/docker Docker endpoint tcp://attacker.example:2375 is not allowed for environment testing by the operator (allow it in the daemon settings: policy.defaults.dockerTargets; allowed now: default, unix:///var/run/docker.sock)`,
    ]);
  });

  it('allows the daemon’s own engine with no settings, and listed endpoints per environment glob', async () => {
    expect(await refusals(undefined, {})).toEqual([]);
    const policy = { environments: [{ match: 'test*', dockerTargets: ['tcp://10.0.0.*:2376'] }] };
    expect(await refusals(policy, { env: 'target:\n  docker: tcp://10.0.0.5:2376\n' })).toEqual([]);
    expect(await refusals(policy, {})).toEqual([
      `${F}/environment.yaml: /target/docker Docker endpoint default is not allowed for environment testing by the operator (allow it in the daemon settings: policy.environments[0] (match "test*").dockerTargets; allowed now: tcp://10.0.0.*:2376)`,
    ]);
  });
});

describe('operator policy: bind mounts (finding 3)', () => {
  const web = (source: string) => `volumes:\n  - ${source}:/data\n`;
  const repoAllows = 'policy:\n  bindMounts: [/]\n';

  it('the repo’s own policy.bindMounts cannot widen the operator’s: /var/run/docker.sock stays refused', async () => {
    expect(await refusals(undefined, { env: repoAllows, web: web('/var/run/docker.sock') })).toEqual([
      `${F}/web.yaml:1:1: /volumes service web bind-mounts /var/run/docker.sock, which exposes the Docker engine: a host-level option the operator has not allowed (allow it in the daemon settings: policy.defaults.hostOptions: true)`,
    ]);
    expect(await refusals(undefined, { env: repoAllows, web: web('/etc') })).toEqual([
      `${F}/web.yaml:1:1: /volumes service web: host path /etc is not under a folder the operator allows (allow it in the daemon settings: policy.defaults.bindMounts; allowed now: none)`,
    ]);
  });

  it('follows links: a link under an allowed folder that leads to / is refused', async () => {
    const policy = { defaults: { bindMounts: ['/srv/shop'] } };
    const env = 'policy:\n  bindMounts: [/srv/shop]\n';
    expect(await refusals(policy, { env, web: web('/srv/shop/data') })).toEqual([]);
    expect(await refusals(policy, { env, web: web('/srv/shop/root') }, { '/srv/shop/root': '/' })).toEqual([
      `${F}/web.yaml:1:1: /volumes service web bind-mounts /srv/shop/root (which leads to /), which exposes the Docker engine: a host-level option the operator has not allowed (allow it in the daemon settings: policy.defaults.hostOptions: true)`,
    ]);
    expect(await refusals(policy, { env, web: web('/srv/shop/etc') }, { '/srv/shop/etc': '/etc' })).toEqual([
      `${F}/web.yaml:1:1: /volumes service web: /srv/shop/etc is under an allowed folder but leads out of it through a link to /etc (allow it in the daemon settings: policy.defaults.bindMounts; allowed now: /srv/shop)`,
    ]);
  });

  it('with hostOptions the operator may allow the Docker socket', async () => {
    const policy = { environments: [{ match: 'testing', hostOptions: true, bindMounts: ['/var/run/docker.sock'] }] };
    expect(await refusals(policy, { env: 'policy:\n  bindMounts: [/var/run]\n', web: web('/var/run/docker.sock') })).toEqual([]);
  });

  it('resolves a path that does not exist yet through its deepest existing folder', async () => {
    const env = await loadOne(repoWith({ [`${F}/environment.yaml`]: envYaml('testing', 'policy:\n  bindMounts: [/srv]\n'), [`${F}/web.yaml`]: serviceYaml('web', web('/srv/link/new/dir')) }));
    const policy = toOperatorPolicy({ defaults: { bindMounts: ['/srv'] } }, 'test');
    const problems = await evaluatePolicy(policy, env, { realpath: fakeRealpath({ '/srv/link': '/home' }, ['/home/new']) });
    expect(problems.map((p) => p.message)).toEqual([expect.stringContaining('leads out of it through a link to /home/new/dir')]);
  });
});

describe('operator policy: secrets and HTTP test targets (findings 1 and 5)', () => {
  it('refuses secrets outside the operator’s globs, in services and container tests', async () => {
    const policy = { defaults: { secrets: ['shop-*'] } };
    const env = 'tests:\n  - name: smoke\n    container: { image: busybox:1.35, environment: { T: { secret: ops-root } } }\n';
    expect(await refusals(policy, { env, web: 'environment:\n  DB_PASSWORD: { secret: shop-db }\n' })).toEqual([
      `${F}/environment.yaml: /tests/0/container/environment reads secret ops-root, which the operator does not allow environment testing to read (allow it in the daemon settings: policy.defaults.secrets; allowed now: shop-*)`,
    ]);
  });

  it('compose secrets (files under /run/secrets) need the same grant; a name that is a path is refused by the one grammar', async () => {
    const policy = { defaults: { secrets: ['shop-*'] } };
    expect(await refusals(policy, { web: 'secrets: [shop-db, ops-root]\n' })).toEqual([
      `${F}/web.yaml: /secrets reads secret ops-root, which the operator does not allow environment testing to read (allow it in the daemon settings: policy.defaults.secrets; allowed now: shop-*)`,
    ]);
    const problems = await loadOne(repoWith({ 'environments/testing/environment.yaml': envYaml('testing', ''), 'environments/testing/web.yaml': serviceYaml('web', 'secrets: [".hidden"]\n') })).then(
      () => [],
      (error: Error) => [error.message],
    );
    expect(problems.join('\n')).toContain("must be a secret name: a letter or digit, then letters, digits, '_', '.' or '-' (no '/')");
  });

  const http = (url: string) => `tests:\n  - name: probe\n    http: { url: "${url}" }\n`;
  it.each([
    ['its own published port on loopback', 'http://127.0.0.1:18990/', []],
    ['a service on its own network', 'http://web:8080/health', []],
    ['the cloud metadata service', 'http://169.254.169.254/latest/meta-data/', ['169.254.169.254:80']],
    ['a port it does not publish', 'http://127.0.0.1:7420/api/v1/sync', ['127.0.0.1:7420']],
    ['an outside host', 'https://internal.example.com/admin', ['internal.example.com:443']],
  ])('HTTP test to %s', async (_name, url, refused) => {
    const problems = await refusals(undefined, { env: http(url), web: 'ports: ["127.0.0.1:18990:8080"]\n' });
    expect(problems).toEqual(refused.map((target) => `${F}/environment.yaml: /tests/0/http/url HTTP test target ${target} is neither published by environment testing nor on its network, and the operator does not allow it (allow it in the daemon settings: policy.defaults.httpTargets; allowed now: none)`));
  });

  it('allows what the operator lists in httpTargets', async () => {
    expect(await refusals({ defaults: { httpTargets: ['*.example.com:443'] } }, { env: http('https://internal.example.com/admin') })).toEqual([]);
  });
});

describe('operator policy: host options', () => {
  it.each([
    [{ privileged: true }, ['privileged: true']],
    [{ capAdd: ['SYS_ADMIN'], devices: ['/dev/kmsg'] }, ['cap_add (SYS_ADMIN)', 'devices (/dev/kmsg)']],
    [{ networkMode: 'host', pid: 'host', ipc: 'host' }, ['network_mode: host', 'pid: host', 'ipc: host']],
    [{ networkMode: 'bridge' }, []],
  ])('%j uses %j', (fields, used) => {
    expect(hostOptionsOf(fields as unknown as ContainerSpec)).toEqual(used);
  });
});

describe('grants', () => {
  it.each([
    ['*', 'anything', true],
    ['stag*', 'staging', true],
    ['stag*', 'testing', false],
    ['prod-?', 'prod-1', true],
    ['prod-?', 'prod-12', false],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
  ])('glob %s matches %s: %s', (pattern, text, result) => {
    expect(globMatch(pattern, text)).toBe(result);
  });

  it('first matching entry wins, its missing fields come from defaults; unmatched environments get the defaults', () => {
    const policy = toOperatorPolicy({ defaults: { secrets: ['x'] }, environments: [{ match: 'prod*', hostOptions: true }, { match: '*', hostOptions: false }] }, 'test');
    expect(grantFor(policy, 'production')).toMatchObject({ hostOptions: true, secrets: ['x'], setting: 'policy.environments[0] (match "prod*")' });
    expect(grantFor(policy, 'dev')).toMatchObject({ hostOptions: false, setting: 'policy.environments[1] (match "*")' });
    expect(grantFor(defaultPolicy, 'dev')).toMatchObject({ dockerTargets: ['default', 'unix:///var/run/docker.sock'], bindMounts: [], hostOptions: false, secrets: ['*'], httpTargets: [], setting: 'policy.defaults' });
  });
});
