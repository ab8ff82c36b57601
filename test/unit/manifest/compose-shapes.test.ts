import { describe, expect, it } from 'vitest';
import { loadOne, problemsOf, repoWith, serviceYaml, envYaml } from './support.js';

const T = 'environments/testing';
const load = async (extra: string, files: Record<string, string> = {}) => (await loadOne(repoWith({ [`${T}/web.yaml`]: serviceYaml('web', extra), ...files }))).services[0]!;

describe('compose shapes people write', () => {
  it.each([
    ['long-form port with target as a string, x- keys', 'ports:\n  - target: "80"\n    published: "8080"\n    x-note: public\n', (s: Awaited<ReturnType<typeof load>>) => expect(s.spec.ports).toEqual([{ target: 80, published: 8080, hostIp: '', protocol: 'tcp' }])],
    ['sctp port', 'ports: ["9000/sctp"]\n', (s: Awaited<ReturnType<typeof load>>) => expect(s.spec.ports[0]!.protocol).toBe('sctp')],
    ['healthcheck retries as a string', 'healthcheck:\n  test: ["CMD", "true"]\n  retries: "3"\n', (s: Awaited<ReturnType<typeof load>>) => expect(s.spec.healthcheck!.retries).toBe(3)],
    ['labels with no value', 'labels:\n  traefik.enable:\n  tier: web\n', (s: Awaited<ReturnType<typeof load>>) => expect(s.spec.labels).toEqual({ 'traefik.enable': '', tier: 'web' })],
    ['list labels with no value', 'labels: ["flag", "a=b"]\n', (s: Awaited<ReturnType<typeof load>>) => expect(s.spec.labels).toEqual({ flag: '', a: 'b' })],
    ['memory sizes 512mb and 1GiB', 'mem_reservation: 512mb\ndeploy:\n  resources:\n    limits: { memory: 1GiB }\n', (s: Awaited<ReturnType<typeof load>>) => {
      expect(s.spec.resources.memoryBytes).toBe(1024 ** 3);
      expect(s.spec.options?.memoryReservationBytes).toBe(512 * 1024 ** 2);
    }],
    ['volume options :z, ro,z, nocopy, long-form volume.nocopy, tmpfs', 'volumes:\n  - data:/data:nocopy\n  - cache:/cache:ro,z\n  - type: volume\n    source: logs\n    target: /logs\n    volume: { nocopy: true }\n    x-why: keep\n  - type: tmpfs\n    target: /run/app\n    tmpfs: { size: 16m, mode: "1777" }\n', (s: Awaited<ReturnType<typeof load>>) =>
      expect(s.spec.volumes).toEqual([
        { type: 'volume', source: 'cache', target: '/cache', readOnly: true, selinux: 'z' },
        { type: 'volume', source: 'data', target: '/data', readOnly: false, noCopy: true },
        { type: 'volume', source: 'logs', target: '/logs', readOnly: false, noCopy: true },
        { type: 'tmpfs', source: null, target: '/run/app', readOnly: false, tmpfsBytes: 16 * 1024 ** 2, tmpfsMode: 0o1777 },
      ])],
    ['deploy.restart_policy without restart', 'deploy:\n  restart_policy: { condition: on-failure, max_attempts: 3 }\n', (s: Awaited<ReturnType<typeof load>>) => expect(s.spec.restart).toBe('on-failure:3')],
    ['build beside image: pulled, with a note', 'build: ./web\n', (s: Awaited<ReturnType<typeof load>>) => expect(s.notes).toEqual([expect.stringContaining('does not build')])],
    ['container options', 'user: "1000:1000"\nworking_dir: /srv\nhostname: web1\nread_only: true\ntmpfs: ["/tmp:size=1m"]\nulimits:\n  nofile: { soft: 1024, hard: 2048 }\n  nproc: 512\nshm_size: 64m\nlogging:\n  driver: json-file\n  options: { max-size: 10m, max-file: 3 }\nstop_signal: SIGINT\npids_limit: 100\nextra_hosts: ["db.local=10.0.0.5", "cache:10.0.0.6"]\ndns: 1.1.1.1\nstdin_open: true\ntty: true\nexpose: ["3000", "8000-8001/udp"]\n', (s: Awaited<ReturnType<typeof load>>) => {
      expect(s.spec.options).toEqual({
        user: '1000:1000', workingDir: '/srv', hostname: 'web1', readOnly: true, tmpfs: { '/tmp': 'size=1m' },
        ulimits: { nofile: { soft: 1024, hard: 2048 }, nproc: { soft: 512, hard: 512 } }, shmBytes: 64 * 1024 ** 2,
        logging: { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } }, stopSignal: 'SIGINT',
        extraHosts: ['db.local:10.0.0.5', 'cache:10.0.0.6'], dns: ['1.1.1.1'], stdinOpen: true, tty: true, expose: ['3000/tcp', '8000/udp', '8001/udp'],
      });
      expect(s.spec.resources.pids).toBe(100);
    }],
  ])('%s', async (_name, extra, check) => {
    check(await load(extra));
  });

  it('container_name names the container and forces stop-first', async () => {
    const s = await load('container_name: shop-web\n');
    expect(s.spec.containerName).toBe('shop-web');
    expect(s).toMatchObject({ updateOrder: 'stop-first', updateOrderForced: true, updateOrderReason: 'stop-first: container_name gives one live container the name' });
  });

  it('a service without new options keeps its old spec hash shape (no options key)', async () => {
    expect((await load('')).spec).not.toHaveProperty('options');
  });

  it('env_file long form: required: false skips a missing file', async () => {
    const s = await load('env_file:\n  - path: common.env\n  - path: local.env\n    required: false\n', { [`${T}/common.env`]: 'A=1\n' });
    expect(s.spec.environment).toEqual({ A: '1' });
  });

  it('external volumes are joined by their own name', async () => {
    const env = await loadOne(repoWith({ [`${T}/environment.yaml`]: envYaml('testing', 'volumes:\n  shared: { external: true, name: media-library }\n'), [`${T}/web.yaml`]: serviceYaml('web', 'volumes: ["shared:/media"]\n') }));
    expect(env.services[0]!.spec.volumes).toEqual([{ type: 'volume', source: 'media-library', target: '/media', readOnly: false, external: true }]);
  });

  it('profiles: only active services deploy; an active one may not depend on an inactive one', async () => {
    const files = repoWith({
      [`${T}/environment.yaml`]: envYaml('testing', 'profiles: [tools]\n'),
      [`${T}/adminer.yaml`]: serviceYaml('adminer', 'profiles: [tools]\n'),
      [`${T}/debug.yaml`]: serviceYaml('debug', 'profiles: [debug]\n'),
    });
    expect((await loadOne(files)).services.map((s) => s.name)).toEqual(['adminer', 'web']);
    const problems = await problemsOf({ ...files, [`${T}/web.yaml`]: serviceYaml('web', 'depends_on: [debug]\n') });
    expect(problems).toEqual([expect.stringContaining('depends on "debug", which is not deployed here: its profiles (debug) are not active in this environment (profiles: tools)')]);
  });

  it.each([
    ['runtime: runsc\n', '/runtime is a host-level option, refused: stagecoach does not create containers with it, even where the operator allows host options'],
    ['network_mode: bridge\n', '/network_mode is refused: every service joins its environment\'s network'],
    ['network_mode: host\nports: ["8080:80"]\n', '/ports is refused with network_mode host the container uses the host network stack directly'],
    ['network_mode: host\nnetworks: [default]\n', '/networks is refused with network_mode host'],
    ['pid: "container:db"\n', '/pid only "host" is supported'],
    ['devices: ["dev/fuse"]\n', '/devices/0 must be /dev/HOST[:/dev/CONTAINER[:rwm]] (got "dev/fuse")'],
    ['sysctls: ["net.core.somaxconn"]\n', '/sysctls/0 must be NAME=VALUE'],
    ['container_name: shop-web\ndeploy: { replicas: 2 }\n', '/container_name allows one replica only: 2 containers cannot share the name "shop-web"'],
    ['links: [db]\n', '/links is refused: links are legacy'],
    ['volumes: ["./data:/var/lib/data"]\n', 'does not exist: only a file of the config repo can be copied into the container; for a directory that holds state use a named volume'],
    ['ports:\n  - target: 80\n    mode: ingress\n', 'mode ingress is the Swarm routing mesh'],
  ])('refuses %s with the reason', async (extra, message) => {
    const problems = await problemsOf(repoWith({ [`${T}/web.yaml`]: serviceYaml('web', extra) }));
    expect(problems).toEqual([expect.stringContaining(message)]);
  });

  it('build-only services are refused with the reason', async () => {
    const problems = await problemsOf(repoWith({ [`${T}/web.yaml`]: 'apiVersion: stagecoach/v1\nkind: Service\nname: web\nbuild: .\n' }));
    expect(problems).toEqual([expect.stringContaining('/image has build but no image: stagecoach does not build images')]);
  });
});

describe('networks', () => {
  const envWith = (extra: string) => envYaml('testing', extra);
  it('normalizes list and map forms; default is the environment network', async () => {
    const env = await loadOne(
      repoWith({
        [`${T}/environment.yaml`]: envWith('networks:\n  back:\n    ipam:\n      config: [{ subnet: 10.9.0.0/24 }]\n  front:\n'),
        [`${T}/web.yaml`]: serviceYaml('web', 'networks:\n  default: { aliases: [www] }\n  back: { ipv4_address: 10.9.0.5 }\n  front:\n'),
      }),
    );
    const digest = (key: string) => env.environment.networks![key]!.digest;
    expect(env.services[0]!.spec.networks).toEqual({ default: { aliases: ['www'] }, back: { ipv4Address: '10.9.0.5', definition: digest('back') }, front: { definition: digest('front') } });
    expect(env.environment.networks!.back!.name).toBe('stagecoach-testing-back');
  });

  it.each([
    ['internal', 'internal: true'],
    ['driver_opts', 'driver_opts: { com.docker.network.bridge.enable_icc: "false" }'],
    ['labels', 'labels: { team: shop }'],
    ['ipam', 'ipam: { config: [{ subnet: 10.7.0.0/24 }] }'],
  ])('a changed %s of a network changes the spec of the services joining it (plan shows a replace)', async (_field, change) => {
    const load = (def: string) =>
      loadOne(repoWith({ [`${T}/environment.yaml`]: envWith(`networks:\n  back: {${def}}\n`), [`${T}/web.yaml`]: serviceYaml('web', 'networks: [back]\n'), [`${T}/db.yaml`]: serviceYaml('db') }));
    const [before, after] = await Promise.all([load(''), load(` ${change} `)]);
    const hash = (e: typeof before, name: string) => e.services.find((s) => s.name === name)!.specHash;
    expect(hash(after, 'web')).not.toBe(hash(before, 'web'));
    expect(hash(after, 'db')).toBe(hash(before, 'db'));
  });

  it.each([
    ['', 'networks: [nope]\n', '/networks/0 names network "nope", which the environment does not define'],
    ['networks:\n  back:\n', 'networks:\n  back: { ipv4_address: 10.0.0.5 }\n', '/networks/back/ipv4_address needs a network with a subnet'],
    ['networks:\n  back:\n    ipam:\n      config: [{ subnet: 10.9.0.0/24 }]\n', 'networks:\n  back: { ipv4_address: 10.8.0.5 }\n', 'is not in the subnet of network back (10.9.0.0/24)'],
  ])('refuses %j + %j', async (environment, service, message) => {
    const problems = await problemsOf(repoWith({ [`${T}/environment.yaml`]: envWith(environment), [`${T}/web.yaml`]: serviceYaml('web', service) }));
    expect(problems).toEqual([expect.stringContaining(message)]);
  });
});

describe('secret policy details', () => {
  it('a *_FILE variable holding a path is not a secret value', async () => {
    const s = await load('environment:\n  POSTGRES_PASSWORD_FILE: /run/secrets/db_password\n');
    expect(s.spec.environment).toEqual({ POSTGRES_PASSWORD_FILE: '/run/secrets/db_password' });
  });
});
