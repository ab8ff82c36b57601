import { describe, expect, it } from 'vitest';
import { edgeImage } from '../../../src/proxy/edge-spec.js';
import { apply } from '../../../src/reconcile/apply.js';
import { formatPlan } from '../../../src/reconcile/format.js';
import { FakeEdge } from '../../support/fake-edge.js';
import { FakeRuntime } from '../../support/fake-runtime.js';
import { converge, environment, fakeWith, fastReady, planOn, silent, svc } from '../reconcile/support.js';

const web = (image = 'busybox:1.35', extra = '') => ({ 'web.yaml': svc('web', `ports: ["127.0.0.1:8080:80"]\n${extra}`, image) });
const summary = (p: Awaited<ReturnType<typeof planOn>>) => [
  ...p.actions.map((a) => `${a.kind} ${a.service} ${a.order ?? ''} ${a.edge ? `${a.edge.from ?? '-'}→${a.edge.color}` : ''}`.trim()),
  ...(p.edges ?? []).map((e) => `edge ${e.kind} ${e.service} ${e.at}${e.color ? ` ${e.color}` : ''}`),
];

function edgeOf(runtime: FakeRuntime): FakeEdge {
  const edge = new FakeEdge(runtime);
  return edge;
}

describe('plan with the edge proxy', () => {
  it('creates the service behind a proxy, then replaces start-first into the other colour', async () => {
    const runtime = fakeWith('busybox:1.35', 'busybox:1.36');
    expect(summary(await planOn(runtime, await environment(web())))).toEqual(['create web  -→blue']);
    expect((await converge(runtime, await environment(web()))).outcome).toBe('converged');
    expect(runtime.names()).toEqual(['testing-web busybox:1.35 running', `testing-web.edge ${edgeImage} running`]);
    const replace = await planOn(runtime, await environment(web('busybox:1.36')));
    expect(summary(replace)).toEqual(['replace web start-first blue→green']);
    expect(formatPlan(replace)).toContain('start-first behind the edge proxy: it switches to the new container once healthy and drains the old one');
    expect(formatPlan(replace)).not.toContain('a fixed host port is published');
  });

  it('honours an explicit stop-first behind the proxy', async () => {
    const runtime = fakeWith('busybox:1.35', 'busybox:1.36');
    await converge(runtime, await environment(web()));
    const stopFirst = 'deploy: { update_config: { order: stop-first } }\n';
    expect(summary(await planOn(runtime, await environment(web('busybox:1.36', stopFirst))))).toEqual(['replace web stop-first blue→green']);
  });

  it('moves a container that publishes its own port behind the proxy once, and back with edge: off', async () => {
    const runtime = fakeWith('busybox:1.35');
    await converge(runtime, await environment(web('busybox:1.35', 'edge: off\n')));
    const moving = await planOn(runtime, await environment(web()));
    expect(summary(moving)).toEqual(['replace web stop-first -→blue']);
    expect(moving.actions[0]!.reasons).toContain('moves behind the edge proxy: the host port is handed over once (stop-first), later updates switch without downtime');
    expect((await converge(runtime, await environment(web()))).outcome).toBe('converged');
    expect(runtime.byName('testing-web')!.create.ports).toEqual([]);

    const leaving = await planOn(runtime, await environment(web('busybox:1.35', 'edge: off\n')));
    expect(summary(leaving)).toEqual(['replace web stop-first', 'edge remove web before-services']);
    expect(leaving.actions[0]!.reasons).toEqual(['leaves the edge proxy (a fixed host port is published and edge is off); stop-first']);
    expect((await converge(runtime, await environment(web('busybox:1.35', 'edge: off\n')))).outcome).toBe('converged');
    expect(runtime.names()).toEqual(['testing-web busybox:1.35 running']);
    expect(runtime.byName('testing-web')!.create.ports[0]!.published).toBe(8080);
  });

  it('heals a missing or stopped proxy of a service in sync, unless self-heal is off, and prunes one nothing needs', async () => {
    const runtime = fakeWith('busybox:1.35');
    await converge(runtime, await environment(web()));
    const proxy = runtime.byName('testing-web.edge')!;
    await runtime.stopContainer(proxy.id);
    expect(summary(await planOn(runtime, await environment(web())))).toEqual(['noop web', 'edge start web after-services blue']);
    expect(summary(await planOn(runtime, await environment(web(), 'sync: { selfHeal: false }\n')))).toEqual(['noop web']);
    await runtime.removeContainer(proxy.id);
    const missing = await planOn(runtime, await environment(web()));
    expect(summary(missing)).toEqual(['noop web', 'edge create web after-services blue']);
    expect(formatPlan(missing)).toContain('⇄ edge create   web          → blue\n      missing: no edge proxy testing-web.edge');
    expect((await converge(runtime, await environment(web()))).outcome).toBe('converged');
    expect(summary(await planOn(runtime, await environment(web())))).toEqual(['noop web']);

    expect(summary(await planOn(runtime, await environment({ 'api.yaml': svc('api') })))).toEqual(['create api', 'remove web', 'edge remove web before-services']);
    expect(summary(await planOn(runtime, await environment({ 'api.yaml': svc('api') }, 'sync: { prune: false }\n')))).toEqual(['create api', 'noop web']);
  });

  it('recreates a proxy whose ports changed along with the service', async () => {
    const runtime = fakeWith('busybox:1.35');
    await converge(runtime, await environment(web()));
    const moved = { 'web.yaml': svc('web', 'ports: ["127.0.0.1:8081:80"]\n') };
    expect(summary(await planOn(runtime, await environment(moved)))).toEqual(['replace web start-first blue→green']);
    expect((await converge(runtime, await environment(moved))).outcome).toBe('converged');
    const proxy = runtime.byName('testing-web.edge')!;
    expect(proxy.create.ports).toEqual([{ target: 80, published: 8081, hostIp: '127.0.0.1', protocol: 'tcp' }]);
  });
});

describe('apply with the edge proxy', () => {
  it('switches the proxy to the new colour once it is healthy, drains the old, then retires it', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage('busybox:1.35');
    runtime.addImage('busybox:1.36');
    const edge = edgeOf(runtime);
    await converge(runtime, await environment(web()));
    expect(edge.serving('testing-web.edge')).toEqual(['svc_80/blue']);
    runtime.writes.length = 0;
    edge.commands.length = 0;
    edge.openSessions.set('testing-web.edge', 2);
    const result = await converge(runtime, await environment(web('busybox:1.36')));
    expect(result.outcome).toBe('converged');
    expect(runtime.writes).toEqual(['create testing-web.next', 'start testing-web.next', 'stop testing-web', 'remove testing-web', 'rename testing-web.next testing-web']);
    expect(edge.commands.filter((c) => c.includes('set server'))).toEqual([
      'testing-web.edge: set server svc_80/green state ready',
      'testing-web.edge: set server svc_80/blue state drain',
      'testing-web.edge: set server svc_80/blue state maint',
    ]);
    // It waited for the two open sessions to finish.
    expect(edge.commands.filter((c) => c.endsWith('show stat'))).toHaveLength(3);
    expect(edge.serving('testing-web.edge')).toEqual(['svc_80/green']);
    expect(edge.files.get('testing-web.edge')).toContain('server blue web--blue:80 resolvers docker init-addr last,none disabled');
  });

  it('a new version that fails is never switched to: the proxy keeps serving the old colour', async () => {
    const runtime = fakeWith('busybox:1.35', 'busybox:1.36');
    runtime.failing.set('busybox:1.36', 'exit');
    await converge(runtime, await environment(web()));
    const result = await converge(runtime, await environment(web('busybox:1.36')));
    expect(result.results[0]!.outcome).toBe('rolled-back');
    expect(runtime.names()).toEqual(['testing-web busybox:1.35 running', `testing-web.edge ${edgeImage} running`]);
  });

  it('rolls back when the proxy cannot switch, pointing it at the old colour again', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage('busybox:1.35');
    runtime.addImage('busybox:1.36');
    const edge = edgeOf(runtime);
    await converge(runtime, await environment(web()));
    const original = runtime.execHandler!;
    runtime.execHandler = (c, command) => (String(command[4]).includes('green state ready') ? { exitCode: 0, output: 'No such server.\n' } : original(c, command));
    const result = await converge(runtime, await environment(web('busybox:1.36')));
    expect(result.results[0]).toMatchObject({ outcome: 'rolled-back' });
    expect(result.results[0]!.message).toContain('edge proxy: edge proxy testing-web.edge: set server svc_80/green state ready; set server svc_80/blue state drain: No such server.');
    expect(edge.serving('testing-web.edge')).toEqual(['svc_80/blue']);
    expect(runtime.names()).toEqual(['testing-web busybox:1.35 running', `testing-web.edge ${edgeImage} running`]);
  });

  it('stop-first behind the proxy: a failed switch rolls back and the proxy serves the restarted old container again', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage('busybox:1.35');
    runtime.addImage('busybox:1.36');
    const edge = edgeOf(runtime);
    const stopFirst = 'deploy: { update_config: { order: stop-first } }\n';
    await converge(runtime, await environment(web('busybox:1.35', stopFirst)));
    const original = runtime.execHandler!;
    let failed = false;
    // The switch happens, then the proxy stops answering once: the handover fails after new connections went to green.
    runtime.execHandler = (c, command) => (!failed && String(command[4]) === 'show stat' ? ((failed = true), { exitCode: 1, output: 'connection refused' }) : original(c, command));
    const result = await converge(runtime, await environment(web('busybox:1.36', stopFirst)));
    expect(result.results[0]).toMatchObject({ outcome: 'rolled-back' });
    expect(runtime.names()).toEqual(['testing-web busybox:1.35 running', `testing-web.edge ${edgeImage} running`]);
    expect(edge.serving('testing-web.edge')).toEqual(['svc_80/blue']);
  });

  it('after a crash past the switch, points the proxy back at the container recovery keeps before removing the other', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage('busybox:1.35');
    runtime.addImage('busybox:1.36');
    const edge = edgeOf(runtime);
    await converge(runtime, await environment(web()));
    // A crash: the first apply stops for good right after the switch (its promise never settles).
    let crashed = false;
    void converge(runtime, await environment(web('busybox:1.36')), {
      failpoint: (name) => {
        if (name !== 'after-edge-switch') return;
        crashed = true;
        return new Promise<void>(() => undefined);
      },
    });
    while (!crashed) await new Promise((r) => setImmediate(r));
    expect(edge.serving('testing-web.edge')).toEqual(['svc_80/green']);
    const recovering = await planOn(runtime, await environment(web('busybox:1.36')));
    expect((recovering.edges ?? []).map((e) => `${e.kind} ${e.at} ${e.color}`)).toEqual(['activate before-recovery blue']);
    runtime.writes.length = 0;
    expect((await converge(runtime, await environment(web('busybox:1.36')))).outcome).toBe('converged');
    expect(runtime.writes.slice(0, 2)).toEqual(['stop testing-web.next', 'remove testing-web.next']);
    expect(edge.serving('testing-web.edge')).toEqual(['svc_80/green']);
    expect(runtime.names()).toEqual(['testing-web busybox:1.36 running', `testing-web.edge ${edgeImage} running`]);
  });

  it('builds the proxy image when it is missing and cannot be pulled, and fails clearly without a builder', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage('busybox:1.35');
    const edge = edgeOf(runtime);
    runtime.images.delete(edgeImage);
    const env = await environment(web());
    const noBuilder = await converge(runtime, env);
    expect(noBuilder.results[0]!.message).toContain(`the edge proxy image ${edgeImage} is not on fake://engine and cannot be pulled`);
    expect(noBuilder.results[0]!.message).toContain('run scripts/build-proxy-image.sh');
    expect(runtime.writes.filter((w) => w.startsWith('create'))).toEqual([]);
    const built: string[] = [];
    const result = await apply(await planOn(runtime, env), {
      runtime, environment: env, secrets: () => '', log: silent, ready: fastReady,
      edgeImages: { local: runtime, build: async (image, host) => { built.push(`${image} on ${host}`); runtime.addImage(image); } },
    });
    expect(result.outcome).toBe('converged');
    expect(built).toEqual([`${edgeImage} on fake://engine`]);
    expect(edge.serving('testing-web.edge')).toEqual(['svc_80/blue']);
  });

  it('copies the proxy image from the local engine to a remote one that cannot pull it, before anything is created', async () => {
    const local = new FakeRuntime();
    local.addImage(edgeImage, 'sha256:standin');
    const remote = new FakeRuntime('tcp://remote:2376');
    remote.addImage('busybox:1.35');
    const edge = edgeOf(remote);
    remote.images.delete(edgeImage);
    const env = await environment(web());
    const events: string[] = [];
    const result = await apply(await planOn(remote, env), {
      runtime: remote, environment: env, secrets: () => '', log: silent, ready: fastReady,
      edgeImages: { local }, onEvent: (e) => events.push(e.message),
    });
    expect(result.outcome).toBe('converged');
    expect(remote.images.get(edgeImage)?.id).toBe('sha256:standin');
    expect(local.writes).toEqual([`save ${edgeImage}`]);
    expect(remote.writes.slice(1, 4)).toEqual([`pull ${edgeImage}`, `load ${edgeImage}`, 'create testing-web']);
    expect(events).toContain(`the edge proxy image ${edgeImage} is not on tcp://remote:2376 and cannot be pulled there (pull access denied for ${edgeImage}, repository does not exist): copying it from the local engine fake://engine`);
    expect(edge.serving('testing-web.edge')).toEqual(['svc_80/blue']);
  });

  it('refuses the edge of a remote service when the image can be neither pulled nor copied; the running container is untouched', async () => {
    const local = new FakeRuntime();
    const remote = new FakeRuntime('tcp://remote:2376');
    remote.addImage('busybox:1.35');
    edgeOf(remote);
    await converge(remote, await environment(web('busybox:1.35', 'edge: off\n')));
    remote.images.delete(edgeImage);
    remote.writes.length = 0;
    const env = await environment(web());
    const result = await apply(await planOn(remote, env), { runtime: remote, environment: env, secrets: () => '', log: silent, ready: fastReady, edgeImages: { local } });
    expect(result.outcome).toBe('failed');
    expect(result.results[0]!.message).toBe(
      `the edge proxy image ${edgeImage} is not on tcp://remote:2376, cannot be pulled there (pull access denied for ${edgeImage}, repository does not exist), ` +
        `and copying it from the local engine fake://engine failed (it is not on the local engine fake://engine either): ` +
        `load it there (docker save ${edgeImage} | docker -H tcp://remote:2376 load), make a registry that has it reachable from that engine, or set edge: off on the service`,
    );
    // Checked before the stop-first move behind the proxy: the container that publishes the port keeps running.
    expect(remote.writes).toEqual([`pull ${edgeImage}`]);
    expect(remote.names()).toEqual(['testing-web busybox:1.35 running']);
  });
});
