import { describe, expect, it } from 'vitest';
import { labels } from '../../../src/runtime/labels.js';
import { converge, environment, fakeWith, planOn, svc } from './support.js';

const summary = (p: Awaited<ReturnType<typeof planOn>>) => p.actions.map((a) => `${a.step} ${a.kind} ${a.service}${a.replica && a.replica > 1 ? `#${a.replica}` : ''}: ${a.reasons.join('; ')}`);

describe('plan(desired, actual)', () => {
  it('creates what is missing, in depends_on order', async () => {
    const env = await environment({ 'web.yaml': svc('web', 'depends_on: [db]\n'), 'db.yaml': svc('db') });
    expect(summary(await planOn(fakeWith('busybox:1.35'), env))).toEqual([
      '1 create db: missing: no container for this service',
      '2 create web: missing: no container for this service',
    ]);
  });

  it('puts a chain in consecutive steps and a diamond in three, independents together', async () => {
    const env = await environment({
      'a.yaml': svc('a', 'depends_on: [b, c]\n'),
      'b.yaml': svc('b', 'depends_on: [d]\n'),
      'c.yaml': svc('c', 'depends_on: [d]\n'),
      'd.yaml': svc('d'),
      'x.yaml': svc('x', 'depends_on: [y]\n'),
      'y.yaml': svc('y', 'depends_on: [z]\n'),
      'z.yaml': svc('z'),
      'solo.yaml': svc('solo'),
    });
    const steps = (await planOn(fakeWith('busybox:1.35'), env)).actions.map((a) => `${a.step}:${a.service}`);
    expect(steps).toEqual(['1:d', '1:solo', '1:z', '2:b', '2:c', '2:y', '3:a', '3:x']);
  });

  it('is all noop once applied, and a spec that only reorders keys stays noop', async () => {
    const runtime = fakeWith('busybox:1.35');
    await converge(runtime, await environment({ 'web.yaml': svc('web', 'environment: { A: "1", B: "2" }\nports: ["8080"]\n') }));
    const reordered = await environment({ 'web.yaml': 'ports: ["8080"]\nenvironment: { B: "2", A: "1" }\nimage: busybox:1.35\nname: web\nkind: Service\napiVersion: stagecoach/v1\n' });
    expect(summary(await planOn(runtime, reordered))).toEqual(['1 noop web: in sync']);
  });

  it('replaces on a spec change, naming each changed field, and keeps secrets by name', async () => {
    const runtime = fakeWith('busybox:1.35', 'busybox:1.36');
    await converge(runtime, await environment({ 'web.yaml': svc('web', 'environment:\n  LOG_LEVEL: info\n  DB_PASSWORD: { secret: db-a }\n') }));
    const changed = await environment({ 'web.yaml': svc('web', 'environment:\n  LOG_LEVEL: debug\n  DB_PASSWORD: { secret: db-b }\n', 'busybox:1.36') });
    const result = await planOn(runtime, changed);
    expect(summary(result)).toEqual(['1 replace web: spec changed: image, environment.DB_PASSWORD, environment.LOG_LEVEL']);
    expect(result.actions[0]).toMatchObject({
      fromImage: 'busybox:1.35',
      image: 'busybox:1.36',
      order: 'start-first',
      changes: [
        { field: 'image', from: 'busybox:1.35', to: 'busybox:1.36' },
        { field: 'environment.DB_PASSWORD', from: '<secret db-a>', to: '<secret db-b>' },
        { field: 'environment.LOG_LEVEL', from: '"info"', to: '"debug"' },
      ],
    });
    expect(JSON.stringify(result)).not.toContain('hunter2');
  });

  it('replaces stop-first when a fixed host port is published without the edge proxy, and says why', async () => {
    const runtime = fakeWith('busybox:1.35');
    await converge(runtime, await environment({ 'web.yaml': svc('web', 'ports: ["127.0.0.1:8080:80"]\nedge: off\n') }));
    const result = await planOn(runtime, await environment({ 'web.yaml': svc('web', 'ports: ["127.0.0.1:8080:80"]\nedge: off\ncommand: ["true"]\n') }));
    expect(summary(result)).toEqual(['1 replace web: spec changed: command; stop-first: a fixed host port is published and edge is off']);
    expect(result.actions[0]!.order).toBe('stop-first');
  });

  it('replaces when the tag now points at another image', async () => {
    const runtime = fakeWith('busybox:1.35');
    const env = await environment({ 'web.yaml': svc('web') });
    await converge(runtime, env);
    runtime.addImage('busybox:1.35', `sha256:${'b'.repeat(64)}`);
    expect(summary(await planOn(runtime, env))[0]).toMatch(/^1 replace web: image busybox:1\.35 now resolves to sha256:bbbbbbbbbbbb \(the container runs sha256:busybox1350/);
  });

  it.each([
    ['stopped by hand', (c: { state: string; exitCode: number | null }) => Object.assign(c, { state: 'exited', exitCode: 137 }), 'restart web: stopped (exited, exit code 137)', 'start'],
    ['unhealthy', (c: { health: string }) => Object.assign(c, { health: 'unhealthy' }), 'restart web: unhealthy', 'recreate'],
    ['restart policy changed with docker update', (c: { restartPolicy: string }) => Object.assign(c, { restartPolicy: 'always' }), 'restart web: changed outside git: restart policy always (spec: unless-stopped)', 'recreate'],
    ['memory limit changed with docker update', (c: { memoryBytes: number | null }) => Object.assign(c, { memoryBytes: 1024 ** 3 }), 'restart web: changed outside git: memory limit 1073741824 (spec: none)', 'recreate'],
  ])('restarts drift: %s', async (_name, drift, expected, mode) => {
    const runtime = fakeWith('busybox:1.35');
    const env = await environment({ 'web.yaml': svc('web') });
    await converge(runtime, env);
    drift(runtime.byName('testing-web') as never);
    const result = await planOn(runtime, env);
    expect(summary(result)).toEqual([`1 ${expected}`]);
    expect(result.actions[0]!.restartMode).toBe(mode);
  });

  it('reports drift without acting when self-heal is off', async () => {
    const runtime = fakeWith('busybox:1.35');
    const env = await environment({ 'web.yaml': svc('web') }, 'sync: { selfHeal: false }\n');
    await converge(runtime, env);
    Object.assign(runtime.byName('testing-web')!, { state: 'exited', exitCode: 0 });
    expect(summary(await planOn(runtime, env))).toEqual(['1 noop web: drifted: stopped (exited, exit code 0); self-heal is off: left as is']);
  });

  it('removes a labelled container no manifest names when prune is on, keeps and reports it when off', async () => {
    const runtime = fakeWith('busybox:1.35');
    await converge(runtime, await environment({ 'web.yaml': svc('web'), 'old.yaml': svc('old') }));
    expect(summary(await planOn(runtime, await environment({ 'web.yaml': svc('web') })))).toEqual([
      '1 noop web: in sync',
      '2 remove old: no manifest names this service',
    ]);
    expect(summary(await planOn(runtime, await environment({ 'web.yaml': svc('web') }, 'sync: { prune: false }\n')))).toEqual([
      '1 noop web: in sync',
      '2 noop old: no manifest names this service; prune is off: kept',
    ]);
  });

  it('removes first a pruned container that holds a host port the new one needs', async () => {
    const runtime = fakeWith('busybox:1.35');
    await converge(runtime, await environment({ 'old.yaml': svc('old', 'ports: ["8080:80"]\nedge: off\n') }));
    expect(summary(await planOn(runtime, await environment({ 'web.yaml': svc('web', 'ports: ["8080:80"]\nedge: off\n') })))).toEqual([
      '0 remove old: no manifest names this service; removed first: it holds host port 8080:80/tcp needed by the new containers',
      '1 create web: missing: no container for this service',
    ]);
  });

  it('scales up with creates and down with removes', async () => {
    const runtime = fakeWith('busybox:1.35');
    await converge(runtime, await environment({ 'web.yaml': svc('web', 'deploy: { replicas: 2 }\n') }));
    expect(runtime.names()).toEqual(['testing-web-1 busybox:1.35 running', 'testing-web-2 busybox:1.35 running']);
    expect(summary(await planOn(runtime, await environment({ 'web.yaml': svc('web', 'deploy: { replicas: 3 }\n') })))).toEqual([
      '1 noop web: in sync',
      '1 noop web#2: in sync',
      '1 create web#3: missing: no container for replica 3',
    ]);
    expect(summary(await planOn(runtime, await environment({ 'web.yaml': svc('web') })))).toEqual(['1 noop web: in sync', '2 remove web#2: scaled down to 1 replica']);
  });

  it('never sees unlabelled containers or other environments', async () => {
    const runtime = fakeWith('busybox:1.35');
    await converge(runtime, await environment({ 'web.yaml': svc('web') }));
    const mine = runtime.byName('testing-web')!;
    runtime.containers.set('x1', { ...mine, id: 'x1', name: 'testing-web-extra', labels: {} });
    runtime.containers.set('x2', { ...mine, id: 'x2', name: 'staging-web', labels: { ...mine.labels, [labels.environment]: 'staging' } });
    expect(summary(await planOn(runtime, await environment({ 'api.yaml': svc('api') })))).toEqual([
      '1 create api: missing: no container for this service',
      '2 remove web: no manifest names this service',
    ]);
  });
});
