import { describe, expect, it } from 'vitest';
import { loadOne, repoWith, serviceYaml } from './support.js';

const web = 'environments/testing/web.yaml';

async function hashOf(yaml: string, extraFiles: Record<string, string> = {}) {
  const env = await loadOne(repoWith({ [web]: yaml, ...extraFiles }));
  return env.services.find((s) => s.name === 'web')!.specHash;
}

const base = serviceYaml(
  'web',
  `command: ["httpd", "-f", "-p", "8080"]
environment:
  LOG_LEVEL: info
  MODE: fast
ports:
  - "127.0.0.1:8080:8080"
labels:
  team: shop
healthcheck:
  test: ["CMD", "true"]
  interval: 5s
`,
);

describe('spec hash', () => {
  it('is a sha256 of the normalized spec', async () => {
    expect(await hashOf(base)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it.each([
    [
      'keys in another order',
      `healthcheck:
  interval: 5s
  test: ["CMD", "true"]
labels:
  team: shop
environment:
  MODE: fast
  LOG_LEVEL: info
ports:
  - "127.0.0.1:8080:8080"
command: ["httpd", "-f", "-p", "8080"]
image: busybox:1.35
name: web
kind: Service
apiVersion: stagecoach/v1
`,
    ],
    ['defaults spelled out', `${base}restart: unless-stopped\nstop_grace_period: 10s\npull_policy: missing\ndeploy:\n  replicas: 1\n`],
    ['environment as a KEY=VAL list', base.replace('environment:\n  LOG_LEVEL: info\n  MODE: fast', 'environment: ["MODE=fast", "LOG_LEVEL=info"]')],
    ['command as a string', base.replace('command: ["httpd", "-f", "-p", "8080"]', 'command: httpd -f -p 8080')],
    ['ports in long form', base.replace('  - "127.0.0.1:8080:8080"', '  - { target: 8080, published: 8080, host_ip: 127.0.0.1, protocol: tcp }')],
    ['labels as a list', base.replace('labels:\n  team: shop', 'labels: ["team=shop"]')],
    ['healthcheck timings spelled out', base.replace('  interval: 5s', '  interval: 5000ms\n  timeout: 30s\n  retries: 3\n  start_period: 0s')],
    ['durations in other units', base.replace('interval: 5s', 'interval: 5000ms')],
    ['the implicit latest tag', base.replace('busybox:1.35', 'busybox'), 'busybox:latest'],
    ['an extension field', `${base}x-notes: anything\n`],
    ['a comment', `# a comment\n${base}`],
  ])('is the same with %s', async (_name, variant, imageOverride?: string) => {
    const expected = imageOverride ? await hashOf(base.replace('busybox:1.35', imageOverride)) : await hashOf(base);
    expect(await hashOf(variant)).toBe(expected);
  });

  it.each([
    ['image tag', base.replace('busybox:1.35', 'busybox:1.36')],
    ['image digest', base.replace('busybox:1.35', `busybox:1.35@sha256:${'a'.repeat(64)}`)],
    ['command', base.replace('"8080"]', '"8081"]')],
    ['entrypoint', `${base}entrypoint: ["/bin/sh"]\n`],
    ['an environment value', base.replace('LOG_LEVEL: info', 'LOG_LEVEL: debug')],
    ['an added environment variable', base.replace('MODE: fast', 'MODE: fast\n  EXTRA: "1"')],
    ['a secret reference name', base.replace('MODE: fast', 'MODE: fast\n  DB_PASSWORD: { secret: a }')],
    ['the host port', base.replace('127.0.0.1:8080:8080', '127.0.0.1:8081:8080')],
    ['the host address', base.replace('127.0.0.1:8080:8080', '0.0.0.0:8080:8080')],
    ['the protocol', base.replace('127.0.0.1:8080:8080', '127.0.0.1:8080:8080/udp')],
    ['a volume', `${base}volumes: ["data:/data"]\n`],
    ['a volume made read-only', `${base}volumes: ["data:/data:ro"]\n`],
    ['the healthcheck test', base.replace('["CMD", "true"]', '["CMD", "false"]')],
    ['the healthcheck interval', base.replace('interval: 5s', 'interval: 6s')],
    ['a label', base.replace('team: shop', 'team: web')],
    ['the restart policy', `${base}restart: always\n`],
    ['a memory limit', `${base}deploy:\n  resources:\n    limits: { memory: 64m }\n`],
    ['a cpu limit', `${base}deploy:\n  resources:\n    limits: { cpus: 0.5 }\n`],
    ['the stop grace period', `${base}stop_grace_period: 20s\n`],
  ])('changes when %s changes', async (_name, variant) => {
    expect(await hashOf(variant)).not.toBe(await hashOf(base));
  });

  it('changes when an env_file changes, and env_file values lose to environment', async () => {
    const withFile = `${base}env_file: web.env\n`;
    const a = await hashOf(withFile, { 'environments/testing/web.env': 'COLOR=blue\n' });
    const b = await hashOf(withFile, { 'environments/testing/web.env': 'COLOR=green\n' });
    expect(a).not.toBe(b);
    const env = await loadOne(repoWith({ [web]: withFile, 'environments/testing/web.env': 'COLOR=blue\nMODE=slow\n' }));
    expect(env.services[0]!.spec.environment).toEqual({ COLOR: 'blue', LOG_LEVEL: 'info', MODE: 'fast' });
  });

  it.each([
    ['replicas', `${base}deploy: { replicas: 3 }\n`.replace('"127.0.0.1:8080:8080"', '"8080"')],
    ['update order', `${base}deploy: { update_config: { order: stop-first } }\n`],
    ['pull policy', `${base}pull_policy: always\n`],
  ])('does not change with %s (how to roll out, not what runs)', async (_name, variant) => {
    const baseline = _name === 'replicas' ? base.replace('"127.0.0.1:8080:8080"', '"8080"') : base;
    expect(await hashOf(variant)).toBe(await hashOf(baseline));
  });
});
