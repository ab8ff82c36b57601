// One daemon (`stagecoach run`) following a real git remote with a Swarm
// environment. The Swarm runs on a second engine this file starts (as
// swarm.test.ts does), so the main engine other tests share never joins or
// leaves a Swarm. Images come from a real registry on loopback, so the
// markers carry the digests the Swarm node pulled. No IPVS here: the edge
// service publishes in host mode and services resolve by DNS round robin.
import type Docker from 'dockerode';
import { rm } from 'node:fs/promises';
import { parse } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EnvironmentStatus } from '../../src/daemon/status.js';
import { DaemonProcess } from './helpers/daemon.js';
import { buildTestImage, freePort, httpGet, removeByLabel, requireDocker, TEST_LABEL, uniqueName, waitFor } from './helpers/docker.js';
import { git, GitServer, UserClone } from './helpers/git.js';
import { LocalRegistry } from './helpers/registry.js';
import type { RemoteEngine } from './helpers/remote-engine.js';
import { startSwarmManager } from './helpers/swarm-manager.js';

const run = uniqueName('swd');
const local = (tag: string) => `stagecoach-test/${run}:${tag}`;
let main: Docker;
let engine: RemoteEngine;
let registry: LocalRegistry;
let server: GitServer;
let policyDir: string;
let policy: string;
const digests: Record<string, string> = {};
const image = (tag: string) => `${registry.host}/${run}:${tag}`;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  main = await requireDocker();
  const cmd = ['httpd', '-f', '-p', '8080', '-h', '/www'];
  registry = await LocalRegistry.start();
  for (const tag of ['v1', 'v2']) {
    await buildTestImage(main, local(tag), { files: { '/www/index.html': `version ${tag}\n` }, cmd, labels: { [TEST_LABEL]: run } });
    digests[tag] = await registry.push(main, `${run}:${tag}`, local(tag));
  }
  server = await GitServer.start();
  ({ engine, policyDir, policy } = await startSwarmManager(main, ['busybox:1.35']));
}, 240_000);

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

afterAll(async () => {
  await engine?.stop();
  await registry?.stop();
  await server?.dispose();
  if (policyDir) await rm(policyDir, { recursive: true, force: true });
  if (main) await removeByLabel(main, TEST_LABEL, run, { images: true });
}, 120_000);

const health = (test = 'nc 127.0.0.1 8080 </dev/null') => `healthcheck:\n  test: ["CMD-SHELL", "${test}"]\n  interval: 1s\n  timeout: 1s\n  retries: 2\n`;
const service = (name: string, tag: string, extra = '', healthTest?: string) =>
  `apiVersion: stagecoach/v1\nkind: Service\nname: ${name}\nimage: ${image(tag)}\ninit: true\nstop_grace_period: 1s\n${health(healthTest)}${extra}`;
const web = (tag: string, healthTest?: string) => service('web', tag, 'deploy:\n  replicas: 2\n  update_config: { order: start-first }\n', healthTest);

function environmentYaml(env: string, port: number): string {
  return [
    `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}`,
    `target:\n  docker: unix://${engine.socket}\n  mode: swarm`,
    'tests:',
    '  - name: edge answers on its host-mode port',
    `    http: { url: "http://127.0.0.1:${port}/", expect: { status: 200, body: "version" } }`,
    '    retries: 20',
    '    delay: 500ms',
    '  - name: web answers by name on the overlay',
    `    container: { image: "busybox:1.35", command: ["sh", "-c", "(printf 'GET / HTTP/1.0\\\\r\\\\n\\\\r\\\\n'; sleep 1) | nc -w 3 web 8080 | grep version"] }`,
    // The overlay's DNS learns new tasks a moment after they run (gossip; 11 s once under load): retried as a user would,
    // each attempt bounded (a container test may otherwise run for 5 minutes).
    '    timeout: 10s',
    '    retries: 15',
    '    delay: 1s',
    '  - name: web serves its page file',
    '    exec: { service: web, command: ["test", "-f", "/www/index.html"] }',
    '',
  ].join('\n');
}

interface Inspected { Version: { Index: number }; Spec: any; UpdateStatus?: { State: string; Message: string } } // eslint-disable-line @typescript-eslint/no-explicit-any
const inspect = (env: string, name: string) => engine.docker.getService(`${env}_${name}`).inspect() as Promise<Inspected>;

async function marker(user: UserClone, env: string, commit: string) {
  await git(user.dir, 'fetch', '-q', 'origin');
  const yaml = parse(await git(user.dir, 'show', `${commit}:promotions/${env}.yaml`)) as { result: string; revision: string; services: Record<string, { image: string; digest: string | null; imageId: string | null }>; tests: { name: string; result: string }[] };
  return { yaml, message: await git(user.dir, 'log', '-1', '--format=%B', commit) };
}

describe('the daemon runs a Swarm environment', () => {
  it('creates, marks with digests, updates start-first, heals a hand-scaled service, and reports a Swarm rollback without re-applying it', async () => {
    const env = uniqueName('swd').replace(/-/g, '');
    const port = await freePort();
    const url = await server.createRepo(env, { [`environments/${env}/environment.yaml`]: environmentYaml(env, port), [`environments/${env}/web.yaml`]: web('v1'), [`environments/${env}/edge.yaml`]: service('edge', 'v1', `ports: ["${port}:8080"]\n`) });
    const user = await UserClone.of(url);
    cleanup.push(async () => {
      for (const s of await engine.docker.listServices({ filters: { label: [`io.stagecoach.environment=${env}`] } })) await engine.docker.getService(s.ID!).remove().catch(() => undefined);
      await user.dispose();
    });
    const daemon = await DaemonProcess.start(['--repo', url, '--interval', '500ms'], { STAGECOACH_POLICY: policy });
    cleanup.push(() => daemon.dispose());
    const nodeName = (await engine.docker.info()).Name as string;

    // Create: services from the manifests, verified (http, container on the overlay, exec in a task), and a marker with the digests.
    const created = await daemon.waitFor(env, (e) => e.state === 'synced' && e.lastMarker?.result === 'passed', 'the Swarm environment to deploy and pass', 180_000);
    expect(created.target).toBe('swarm');
    expect(created.decisions.some((d) => d.kind === 'deploy' && d.service === 'web' && /^create web: missing: no Swarm service/.test(d.reason))).toBe(true);
    const webStatus = created.services.find((s) => s.name === 'web')!;
    expect(webStatus).toMatchObject({ image: image('v1'), state: 'running', lastAction: { kind: 'create', outcome: 'ok' }, swarm: { replicas: { running: 2, desired: 2 } } });
    expect(webStatus.swarm!.tasks.filter((t) => t.state === 'running').map((t) => t.node)).toEqual([nodeName, nodeName]);
    const v1 = await inspect(env, 'web');
    expect(v1.Spec.Labels).toMatchObject({ 'io.stagecoach.managed': 'true', 'io.stagecoach.environment': env, 'io.stagecoach.service': 'web' });
    expect(v1.Spec.TaskTemplate.ContainerSpec.Image).toBe(image('v1'));
    expect(v1.Spec.Mode).toEqual({ Replicated: { Replicas: 2 } });
    const first = await marker(user, env, created.lastMarker!.commit);
    expect(first.yaml).toMatchObject({ result: 'passed', revision: created.revision.applied, services: { web: { image: image('v1'), digest: digests.v1 }, edge: { image: image('v1'), digest: digests.v1 } } });
    expect(first.yaml.tests.map((t) => `${t.name}: ${t.result}`)).toEqual(['edge answers on its host-mode port: passed', 'web answers by name on the overlay: passed', 'web serves its page file: passed']);
    expect(first.message).toContain(`Stagecoach-Image: web ${image('v1')} ${digests.v1}`);
    expect((await httpGet(`http://127.0.0.1:${port}/`)).body).toBe('version v1\n');

    // A new commit: a start-first update, a new marker with the new digest.
    await user.write(`environments/${env}/web.yaml`, web('v2'));
    const v2Commit = await user.push('web: v2');
    const updated = await daemon.waitFor(env, (e) => e.state === 'synced' && e.services.find((s) => s.name === 'web')?.image === image('v2') && e.lastMarker?.result === 'passed' && e.lastMarker.commit !== created.lastMarker!.commit, 'the v2 update to deploy and pass', 120_000);
    expect(updated.decisions.some((d) => d.kind === 'deploy' && d.revision === v2Commit && /^update web \(start-first\): spec changed: image/.test(d.reason))).toBe(true);
    const v2 = await inspect(env, 'web');
    expect(v2.Spec.TaskTemplate.ContainerSpec.Image).toBe(image('v2'));
    expect(v2.Spec.UpdateConfig).toMatchObject({ Order: 'start-first', FailureAction: 'rollback' });
    expect(v2.UpdateStatus?.State).toBe('completed');
    const second = await marker(user, env, updated.lastMarker!.commit);
    expect(second.yaml).toMatchObject({ result: 'passed', services: { web: { image: image('v2'), digest: digests.v2 }, edge: { digest: digests.v1 } } });

    // A service scaled by hand is healed (a task container's event, or the periodic drift check).
    await engine.docker.getService(`${env}_web`).update({ _query: { version: v2.Version.Index }, _body: { ...v2.Spec, Mode: { Replicated: { Replicas: 4 } } } } as never);
    const healed = await daemon.waitFor(env, (e) => e.decisions.some((d) => d.kind === 'heal' && d.service === 'web') && e.state === 'synced', 'the hand-scaled service to be healed', 60_000);
    expect(healed.decisions.find((d) => d.kind === 'heal')!.reason).toMatch(/^heal web: changed outside git: replicas 4 \(spec: 2\)/);
    expect((await inspect(env, 'web')).Spec.Mode).toEqual({ Replicated: { Replicas: 2 } });
    // What the heal changed is verified again: a new passing marker.
    const reverified = await daemon.waitFor(env, (e) => e.lastMarker?.result === 'passed' && e.lastMarker.commit !== updated.lastMarker!.commit, 'the healed environment to be verified again', 60_000);

    // A commit whose tasks never get healthy: Swarm rolls it back; the daemon says so, writes no passing marker, and does not apply it again.
    await user.write(`environments/${env}/web.yaml`, web('v1', 'exit 1'));
    const bad = await user.push('web: a healthcheck that always fails');
    const rolled = await daemon.waitFor(env, (e) => e.decisions.some((d) => d.kind === 'rollback' && d.revision === bad) && e.state === 'degraded', 'the rollback to be reported', 120_000);
    const rollback = rolled.decisions.find((d) => d.kind === 'rollback')!;
    expect(rollback).toMatchObject({ service: 'web', revision: bad });
    expect(rollback.reason).toMatch(/^update web rolled back: Swarm rolled the update back: .*task \w+: .+/);
    // Right after the rollback the error is Swarm's; at later drift checks, that the spec is held.
    expect(rolled.errors[0]).toMatch(/^web: (rolled back: Swarm rolled the update back|Swarm rolled this spec back)/);
    expect(rolled.services.find((s) => s.name === 'web')).toMatchObject({ image: image('v2'), desiredImage: image('v1'), lastAction: { kind: 'update', outcome: 'rolled back' }, swarm: { update: { state: 'rollback_completed' } } });
    expect(rolled.lastMarker?.commit).toBe(reverified.lastMarker!.commit);
    const after = await inspect(env, 'web');
    expect(after.UpdateStatus?.State).toBe('rollback_completed');
    expect(after.Spec.TaskTemplate.ContainerSpec.Image).toBe(image('v2'));

    // No loop: further drift checks (counted) leave the service's version alone; one rollback, one held decision.
    const observes = await daemon.metric('stagecoach_environment_observes_total', `environment="${env}"`);
    await waitFor(async () => ((await daemon.metric('stagecoach_environment_observes_total', `environment="${env}"`)) >= observes + 3 ? true : undefined), { timeoutMs: 60_000, intervalMs: 500, what: 'three more drift checks' });
    const later = (await daemon.environment(env)) as EnvironmentStatus;
    expect((await inspect(env, 'web')).Version.Index).toBe(after.Version.Index);
    expect(later.state).toBe('degraded');
    expect(later.decisions.filter((d) => d.kind === 'rollback')).toHaveLength(1);
    expect(later.decisions.filter((d) => d.kind === 'deploy' && d.revision === bad).map((d) => d.reason)).toEqual([expect.stringMatching(/^update web \(start-first\): spec changed: .*healthcheck/)]);
    expect(later.decisions.filter((d) => d.kind === 'skip' && d.service === 'web')).toHaveLength(0);
    expect(later.lastMarker?.commit).toBe(reverified.lastMarker!.commit);
    await git(user.dir, 'fetch', '-q', 'origin');
    const subjects = (await git(user.dir, 'log', '--format=%s', 'origin/main')).split('\n');
    expect(subjects.filter((l) => l.startsWith(`${env}: `)).length).toBeGreaterThanOrEqual(3);
    expect(subjects.filter((l) => l.endsWith(`at ${bad.slice(0, 7)}`))).toEqual([]);
    expect(await daemon.metric('stagecoach_rollbacks_total', `environment="${env}"`)).toBe(1);
  }, 600_000);
});
