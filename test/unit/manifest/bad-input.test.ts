import { describe, expect, it } from 'vitest';
import { envYaml, problemsOf, repoWith, serviceYaml } from './support.js';

const T = 'environments/testing';

const bomb = `apiVersion: stagecoach/v1
kind: Service
name: web
image: busybox:1.35
x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
x-b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
x-c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
x-d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
x-e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
x-f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
x-g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
x-h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
x-i: [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`;

interface Case {
  name: string;
  files: Record<string, string>;
  expected: string[];
}

const cases: Case[] = [
  {
    name: 'YAML syntax error',
    files: repoWith({ [`${T}/web.yaml`]: 'apiVersion: stagecoach/v1\nkind: Service\nname: web\nimage: [busybox\n' }),
    expected: [`${T}/web.yaml:5:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]`],
  },
  {
    name: 'duplicate keys',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'image: busybox:1.36\n') }),
    expected: [`${T}/web.yaml:5:1: duplicate key: "image" appears twice in the same mapping`],
  },
  {
    name: 'YAML bomb (nested aliases)',
    files: repoWith({ [`${T}/web.yaml`]: bomb }),
    expected: [`${T}/web.yaml:1:1: too many alias expansions (more than 100): refused as a possible YAML bomb`],
  },
  {
    name: '!!js/function tag stays inert',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'command: !!js/function "function () { process.exit(1) }"\n') }),
    expected: [`${T}/web.yaml:5:10: unsupported YAML tag !!js/function: the only tags allowed in manifests are compose's !reset and !override`],
  },
  {
    name: 'empty file',
    files: repoWith({ [`${T}/empty.yaml`]: '# nothing here yet\n' }),
    expected: [`${T}/empty.yaml: is empty: expected at least one manifest (kind: Environment or Service)`],
  },
  {
    name: 'unknown kind, with a suggestion',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web').replace('kind: Service', 'kind: Servce') }),
    expected: [`${T}/web.yaml:2:7: /kind must be Environment or Service (got "Servce"); did you mean "Service"?`],
  },
  {
    name: 'missing kind',
    files: repoWith({ [`${T}/web.yaml`]: 'apiVersion: stagecoach/v1\nname: web\nimage: busybox:1.35\n' }),
    expected: [`${T}/web.yaml:1:1: /kind is required (Environment or Service)`],
  },
  {
    name: 'a document that is a list',
    files: repoWith({ [`${T}/web.yaml`]: '- web\n- worker\n' }),
    expected: [`${T}/web.yaml:1:1: a manifest must be a mapping with apiVersion and kind (got a list)`],
  },
  {
    name: 'wrong apiVersion',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web').replace('stagecoach/v1', 'stagecoach/v2') }),
    expected: [`${T}/web.yaml:1:13: /apiVersion must be "stagecoach/v1" (got "stagecoach/v2")`],
  },
  {
    name: 'unknown field close to a known one',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'imagee: busybox\n') }),
    expected: [`${T}/web.yaml:5:1: /imagee is not a known field (did you mean "image"?)`],
  },
  {
    name: 'unknown field, allowed names listed',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'flavour: vanilla\n') }),
    expected: [
      `${T}/web.yaml:5:1: /flavour is not a known field (allowed: apiVersion, kind, name, image, extends, command, entrypoint, environment, env_file, ports, volumes, healthcheck, depends_on, labels, restart, deploy, pull_policy, edge, imagePolicy, stop_grace_period, init, profiles, build, expose, user, working_dir, hostname, domainname, read_only, tmpfs, ulimits, shm_size, logging, stop_signal, pids_limit, extra_hosts, dns, dns_search, dns_opt, stdin_open, tty, platform, mem_limit, mem_reservation, cpus, cpu_shares, container_name, links, networks, privileged, cap_add, cap_drop, devices, network_mode, pid, ipc, security_opt, sysctls, runtime, userns_mode, cgroup_parent, cgroup, device_cgroup_rules, oom_kill_disable, oom_score_adj, group_add, configs, secrets, scale, memswap_limit, cpuset, cpu_quota, cpu_period)`,
    ],
  },
  {
    name: 'unknown nested field',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'deploy:\n  replica: 2\n') }),
    expected: [`${T}/web.yaml:6:3: /deploy/replica is not a known field (did you mean "replicas"?)`],
  },
  {
    name: 'wrong type',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'deploy:\n  replicas: two\n') }),
    expected: [`${T}/web.yaml:6:13: /deploy/replicas must be an integer (got "two")`],
  },
  {
    name: 'negative replicas',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'deploy:\n  replicas: -1\n') }),
    expected: [`${T}/web.yaml:6:13: /deploy/replicas must be >= 0 (got -1)`],
  },
  {
    name: 'missing required field',
    files: repoWith({ [`${T}/web.yaml`]: 'apiVersion: stagecoach/v1\nkind: Service\nname: web\n' }),
    expected: [`${T}/web.yaml:1:1: /image is required`],
  },
  {
    name: 'image reference with upper case',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', '', 'Busybox:1.35') }),
    expected: [`${T}/web.yaml:4:8: /image is not a valid image reference: repository "Busybox" must be lowercase (got "Busybox:1.35")`],
  },
  {
    name: 'image reference with a bad tag',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', '', 'busybox:-1.35') }),
    expected: [
      `${T}/web.yaml:4:8: /image is not a valid image reference: has a malformed tag "-1.35" (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-') (got "busybox:-1.35")`,
    ],
  },
  {
    name: 'image reference with a bad digest',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', '', 'busybox@sha256:1234') }),
    expected: [
      `${T}/web.yaml:4:8: /image is not a valid image reference: has a malformed digest "sha256:1234" (expected algorithm:hex, e.g. sha256:<64 hex digits>) (got "busybox@sha256:1234")`,
    ],
  },
  {
    name: 'malformed port',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'ports:\n  - "1:2:3:4"\n') }),
    expected: [
      `${T}/web.yaml:6:5: /ports/0 is not a valid port mapping: expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], e.g. "127.0.0.1:8080:80/tcp" (got "1:2:3:4")`,
    ],
  },
  {
    name: 'port out of range and bad protocol',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'ports:\n  - "70000:80"\n  - "8080:80/sctpx"\n') }),
    expected: [
      `${T}/web.yaml:6:5: /ports/0 is not a valid port mapping: host port "70000" is not a port number 1-65535 or a range (got "70000:80")`,
      `${T}/web.yaml:7:5: /ports/1 is not a valid port mapping: protocol "sctpx" is not tcp, udp or sctp (got "8080:80/sctpx")`,
    ],
  },
  {
    name: 'duplicate service across two files',
    files: repoWith({ [`${T}/other.yaml`]: serviceYaml('web') }),
    expected: [`${T}/web.yaml:3:7: /name service "web" is defined twice (first at ${T}/other.yaml:3:7)`],
  },
  {
    name: 'missing Environment',
    files: { [`${T}/web.yaml`]: serviceYaml('web') },
    expected: [`${T}: has no Environment manifest (a document with kind: Environment)`],
  },
  {
    name: 'a second Environment',
    files: repoWith({ [`${T}/more.yaml`]: envYaml() }),
    expected: [`${T}/more.yaml:2:7: /kind is a second Environment in ${T} (the first is at ${T}/environment.yaml:1:1); one per folder`],
  },
  {
    name: 'Environment name differs from its folder',
    files: repoWith({ [`${T}/environment.yaml`]: envYaml('staging') }),
    expected: [`${T}/environment.yaml:3:7: /name must equal its folder name "testing" (got "staging")`],
  },
  {
    name: 'unknown depends_on',
    files: repoWith({ [`${T}/worker.yaml`]: serviceYaml('worker', 'depends_on: [wbe]\n') }),
    expected: [`${T}/worker.yaml:5:14: /depends_on/0 names unknown service "wbe" (services here: web, worker); did you mean "web"?`],
  },
  {
    name: 'dependency cycle, named in order',
    files: repoWith({
      [`${T}/a.yaml`]: serviceYaml('a', 'depends_on: [b]\n'),
      [`${T}/b.yaml`]: serviceYaml('b', 'depends_on: [c]\n'),
      [`${T}/c.yaml`]: serviceYaml('c', 'depends_on:\n  a: { condition: service_started }\n'),
    }),
    expected: [`${T}/a.yaml:5:13: /depends_on dependency cycle: a → b → c → a`],
  },
  {
    name: 'two services on one host port',
    files: repoWith({
      [`${T}/web.yaml`]: serviceYaml('web', 'ports: ["8080:80"]\n'),
      [`${T}/api.yaml`]: serviceYaml('api', 'ports: ["127.0.0.1:8080:8080"]\n'),
    }),
    expected: [`${T}/web.yaml:5:8: /ports host port 8080/tcp is already published by service "api" (${T}/api.yaml:5:8)`],
  },
  {
    name: 'replicas sharing a fixed host port',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'ports: ["8080:80"]\ndeploy: { replicas: 2 }\n') }),
    expected: [`${T}/web.yaml:6:21: /deploy/replicas 2 replicas cannot share the fixed host port 8080:80/tcp; publish an ephemeral port or use 1 replica`],
  },
  {
    name: 'a literal value where a secret reference is required (value not shown)',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'environment:\n  DATABASE_PASSWORD: hunter2\n') }),
    expected: [`${T}/web.yaml:6:22: /environment/DATABASE_PASSWORD must be a secret reference ({ secret: NAME }), not a literal value (got a literal of 7 characters, not shown)`],
  },
  {
    name: 'a malformed secret reference',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'environment:\n  DATABASE_PASSWORD: { secrt: db }\n') }),
    expected: [`${T}/web.yaml:6:22: /environment/DATABASE_PASSWORD must be a text value or a secret reference { secret: NAME } (got a mapping)`],
  },
  {
    name: 'sync.parallelism out of range',
    files: repoWith({ [`${T}/environment.yaml`]: envYaml('testing', 'sync:\n  parallelism: 0\n') }),
    expected: [`${T}/environment.yaml:5:16: /sync/parallelism must be >= 1 (got 0)`],
  },
  {
    name: 'sync.parallelism on a Swarm target',
    files: repoWith({ [`${T}/environment.yaml`]: envYaml('testing', 'target: { mode: swarm }\nsync:\n  parallelism: 4\n') }),
    expected: [`${T}/environment.yaml:6:16: /sync/parallelism applies to engine targets only (got 4): Swarm services are updated one at a time here, each by its deploy.update_config.parallelism`],
  },
  {
    name: 'a bind mount the policy forbids',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'volumes:\n  - /etc:/host-etc:ro\n') }),
    expected: [`${T}/web.yaml:6:5: /volumes/0 bind mount of host path /etc is not allowed by this environment's policy.bindMounts (allowed: none)`],
  },
  {
    name: 'a bind mount escaping an allowed prefix with ..',
    files: repoWith({
      [`${T}/environment.yaml`]: envYaml('testing', 'policy:\n  bindMounts: [/srv/shop]\n'),
      [`${T}/web.yaml`]: serviceYaml('web', 'volumes:\n  - /srv/shop/../../etc:/x\n'),
    }),
    expected: [`${T}/web.yaml:6:5: /volumes/0 bind mount of host path /etc is not allowed by this environment's policy.bindMounts (allowed: /srv/shop)`],
  },
  {
    name: 'an env_file outside the config repo',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'env_file: ../../../secrets.env\n') }),
    expected: [`${T}/web.yaml:5:11: /env_file must be a path inside the config repo (got "../../../secrets.env")`],
  },
  {
    name: 'an env_file that does not exist',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'env_file: [web.env]\n') }),
    expected: [`${T}/web.yaml:5:12: /env_file/0 names ${T}/web.env, which does not exist`],
  },
  {
    name: 'a malformed duration',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'stop_grace_period: 10 seconds\n') }),
    expected: [`${T}/web.yaml:5:20: /stop_grace_period must be a duration like 500ms, 30s, 2m or 1h30m (got "10 seconds")`],
  },
  {
    name: 'an enum value with a typo',
    files: repoWith({
      [`${T}/db.yaml`]: serviceYaml('db'),
      [`${T}/web.yaml`]: serviceYaml('web', 'depends_on:\n  db: { condition: service_health }\n'),
    }),
    expected: [
      `${T}/web.yaml:6:20: /depends_on/db/condition must be one of service_started, service_healthy, service_completed_successfully (got "service_health"); did you mean "service_healthy"?`,
    ],
  },
  {
    name: 'a test with no check',
    files: repoWith({ [`${T}/environment.yaml`]: envYaml('testing', 'tests:\n  - name: nothing\n') }),
    expected: [`${T}/environment.yaml:5:5: /tests/0 must have exactly one of http, container or exec (got a mapping)`],
  },
  {
    name: 'promotion from an environment that does not exist',
    files: repoWith({ [`${T}/environment.yaml`]: envYaml('testing', 'promotion:\n  from: stagin\n') }),
    expected: [`${T}/environment.yaml: /promotion/from names environment "stagin", which does not exist (environments here: testing)`],
  },
  {
    name: 'a command string using shell syntax',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'command: httpd -f | tee log\n') }),
    expected: [`${T}/web.yaml:5:10: /command uses shell syntax (|); write ["sh", "-c", "..."] to run a shell (got "httpd -f | tee log")`],
  },
  {
    name: 'a reserved label',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'labels:\n  io.stagecoach.managed: "false"\n') }),
    expected: [`${T}/web.yaml:6:3: /labels/io.stagecoach.managed uses the reserved prefix io.stagecoach. (got "io.stagecoach.managed")`],
  },
  {
    name: 'a 5 MB manifest',
    files: repoWith({ [`${T}/huge.yaml`]: `# ${'x'.repeat(5 * 1024 * 1024)}\n` }),
    expected: [`${T}/huge.yaml: file is 5.0 MiB, larger than the 1.0 MiB limit for a config repo file`],
  },
  {
    name: 'several problems in one run, in file order',
    files: repoWith({ [`${T}/web.yaml`]: serviceYaml('web', 'deploy:\n  replicas: -1\nrestart: sometimes\n', 'Busybox') }),
    expected: [
      `${T}/web.yaml:4:8: /image is not a valid image reference: repository "Busybox" must be lowercase (got "Busybox")`,
      `${T}/web.yaml:6:13: /deploy/replicas must be >= 0 (got -1)`,
      `${T}/web.yaml:7:10: /restart must be one of no, always, unless-stopped, on-failure[:N] (got "sometimes")`,
    ],
  },
];

describe('bad input gets a clear, located message', () => {
  it('has a table of at least 25 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases)('$name', async ({ files, expected }) => {
    expect(await problemsOf(files)).toEqual(expected);
  });
});
