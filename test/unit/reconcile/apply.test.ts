import { describe, expect, it } from 'vitest';
import { apply } from '../../../src/reconcile/apply.js';
import { planRecovery } from '../../../src/reconcile/recover.js';
import type { ObservedContainer } from '../../../src/reconcile/types.js';
import { countingRuntime } from '../../support/counting-runtime.js';
import { converge, environment, fakeWith, fastReady, planOn, silent, svc } from './support.js';

const outcomes = (r: Awaited<ReturnType<typeof converge>>) => r.results.map((x) => `${x.action.kind} ${x.action.service}: ${x.outcome}: ${x.message}`);

describe('apply(plan)', () => {
  it('creates services with secrets resolved, on the environment network', async () => {
    const runtime = fakeWith('busybox:1.35');
    const env = await environment({ 'web.yaml': svc('web', 'environment:\n  DB_PASSWORD: { secret: db }\nvolumes: ["data:/data"]\n') });
    const result = await converge(runtime, env);
    expect(result.outcome).toBe('converged');
    const web = runtime.byName('testing-web')!;
    expect(web.create.env).toEqual({ DB_PASSWORD: 'hunter2' });
    expect(web.create).toMatchObject({ network: 'stagecoach-testing', aliases: ['web'], mounts: [{ type: 'volume', source: 'stagecoach-testing-data', target: '/data', readOnly: false }] });
    expect(web.labels['io.stagecoach.spec']).not.toContain('hunter2');
    expect(runtime.writes).toEqual(['network stagecoach-testing', 'volume stagecoach-testing-data', 'create testing-web', 'start testing-web']);
  });

  it('makes no write call when nothing changed', async () => {
    const runtime = fakeWith('busybox:1.35');
    const env = await environment({ 'web.yaml': svc('web') });
    await converge(runtime, env);
    runtime.writes.length = 0;
    const result = await converge(runtime, env);
    expect(result).toMatchObject({ outcome: 'converged', results: [] });
    expect(runtime.writes).toEqual([]);
  });

  it('start-first: starts the candidate beside the old one, retires the old one once healthy', async () => {
    const runtime = fakeWith('busybox:1.35', 'busybox:1.36');
    await converge(runtime, await environment({ 'web.yaml': svc('web', 'healthcheck: { test: ["CMD", "true"] }\n') }));
    runtime.writes.length = 0;
    const result = await converge(runtime, await environment({ 'web.yaml': svc('web', 'healthcheck: { test: ["CMD", "true"] }\n', 'busybox:1.36') }));
    expect(outcomes(result)).toEqual(['replace web: ok: testing-web now runs busybox:1.36 (start-first)']);
    expect(runtime.writes).toEqual(['create testing-web.next', 'start testing-web.next', 'stop testing-web', 'remove testing-web', 'rename testing-web.next testing-web']);
    expect(runtime.names()).toEqual(['testing-web busybox:1.36 running']);
  });

  it('start-first: an unhealthy candidate is removed and the old container keeps serving', async () => {
    const runtime = fakeWith('busybox:1.35', 'busybox:1.36');
    runtime.failing.set('busybox:1.36', 'unhealthy');
    await converge(runtime, await environment({ 'web.yaml': svc('web', 'healthcheck: { test: ["CMD", "true"] }\n') }));
    runtime.writes.length = 0;
    const result = await converge(runtime, await environment({ 'web.yaml': svc('web', 'healthcheck: { test: ["CMD", "true"] }\n', 'busybox:1.36') }));
    expect(result.outcome).toBe('failed');
    expect(outcomes(result)).toEqual(['replace web: rolled-back: rolled back: testing-web.next its healthcheck failed (unhealthy); testing-web kept serving']);
    expect(result.results[0]!.logTail).toBe('log of testing-web.next\n');
    expect(runtime.writes).toEqual(['create testing-web.next', 'start testing-web.next', 'remove testing-web.next']);
    expect(runtime.names()).toEqual(['testing-web busybox:1.35 running']);
  });

  it('stop-first: a new container that exits is removed and the old one restored and started', async () => {
    const runtime = fakeWith('busybox:1.35', 'busybox:1.36');
    runtime.failing.set('busybox:1.36', 'exit');
    await converge(runtime, await environment({ 'web.yaml': svc('web', 'ports: ["8080:80"]\nedge: off\n') }));
    runtime.writes.length = 0;
    const result = await converge(runtime, await environment({ 'web.yaml': svc('web', 'ports: ["8080:80"]\nedge: off\n', 'busybox:1.36') }));
    expect(outcomes(result)).toEqual(['replace web: rolled-back: rolled back: testing-web exited with code 1; testing-web restarted']);
    expect(runtime.writes).toEqual([
      'stop testing-web',
      'rename testing-web testing-web.prev',
      'create testing-web',
      'start testing-web',
      'remove testing-web',
      'rename testing-web.prev testing-web',
      'start testing-web',
    ]);
    expect(runtime.names()).toEqual(['testing-web busybox:1.35 running']);
  });

  it('one image check per image in an apply, however many services use it; a missing one fails each of them', async () => {
    const runtime = fakeWith('busybox:1.35');
    const env = await environment({ 'a.yaml': svc('a'), 'b.yaml': svc('b'), 'c.yaml': svc('c'), 'd.yaml': svc('d', '', 'busybox:9.99'), 'e.yaml': svc('e', '', 'busybox:9.99') });
    const planned = await planOn(runtime, env);
    const counted = countingRuntime(runtime);
    const result = await apply(planned, { runtime: counted.runtime, environment: env, secrets: () => undefined, log: silent, ready: fastReady });
    expect([counted.calls.get('inspectImage'), counted.calls.get('pullImage')]).toEqual([2, 1]);
    expect(outcomes(result)).toEqual([
      'create a: ok: created testing-a (busybox:1.35)',
      'create b: ok: created testing-b (busybox:1.35)',
      'create c: ok: created testing-c (busybox:1.35)',
      'create d: failed: image busybox:9.99 is not present on fake://engine and could not be pulled: pull access denied for busybox:9.99, repository does not exist',
      'create e: failed: image busybox:9.99 is not present on fake://engine and could not be pulled: pull access denied for busybox:9.99, repository does not exist',
    ]);
  });

  it('a missing image fails before anything is touched, and dependents are skipped', async () => {
    const runtime = fakeWith('busybox:1.35');
    await converge(runtime, await environment({ 'web.yaml': svc('web'), 'worker.yaml': svc('worker', 'depends_on: [web]\n') }));
    runtime.writes.length = 0;
    const result = await converge(runtime, await environment({ 'web.yaml': svc('web', '', 'busybox:9.99'), 'worker.yaml': svc('worker', 'depends_on: [web]\ncommand: ["true"]\n') }));
    expect(outcomes(result)).toEqual([
      'replace web: failed: image busybox:9.99 is not present on fake://engine and could not be pulled: pull access denied for busybox:9.99, repository does not exist',
      'replace worker: skipped: skipped: dependency web failed (image busybox:9.99 is not present on fake://engine and could not be pulled: pull access denied for busybox:9.99, repository does not exist) (condition: service_healthy)',
    ]);
    expect(runtime.writes).toEqual(['pull busybox:9.99']);
    expect(runtime.names()).toEqual(['testing-web busybox:1.35 running', 'testing-worker busybox:1.35 running']);
  });

  it('a missing secret fails that service with the secret named, touching nothing', async () => {
    const runtime = fakeWith('busybox:1.35');
    const env = await environment({ 'web.yaml': svc('web', 'environment:\n  API_TOKEN: { secret: api-token }\n') });
    const result = await converge(runtime, env, { secrets: () => undefined });
    expect(outcomes(result)).toEqual([
      'create web: failed: testing/web: secret not set on the daemon host: api-token (a file named api-token in STAGECOACH_SECRETS_DIR, or STAGECOACH_SECRET_API_TOKEN)',
    ]);
    expect(runtime.names()).toEqual([]);
  });

  it('stops at the next safe point when aborted: later steps are skipped', async () => {
    const runtime = fakeWith('busybox:1.35');
    const env = await environment({ 'web.yaml': svc('web'), 'worker.yaml': svc('worker', 'depends_on: [web]\n') });
    const controller = new AbortController();
    const planned = await planOn(runtime, env);
    const result = await apply(planned, {
      runtime,
      environment: env,
      secrets: () => undefined,
      log: silent,
      ready: { graceMs: 0, pollMs: 1, sleep: async () => undefined, now: () => 0 },
      onEvent: (e) => {
        if (e.phase === 'done') controller.abort('superseded by a newer revision');
      },
      signal: controller.signal,
    });
    expect(outcomes(result)).toEqual(['create web: ok: created testing-web (busybox:1.35)', 'create worker: skipped: skipped: superseded by a newer revision']);
  });
});

const observed = (name: string, extra: Partial<ObservedContainer> = {}): ObservedContainer => ({
  id: name,
  name,
  service: 'web',
  replica: 1,
  slot: name.endsWith('.next') ? 'candidate' : name.endsWith('.prev') ? 'previous' : 'current',
  specHash: 'h',
  spec: undefined,
  revision: 'r',
  image: 'busybox:1.35',
  imageId: 'i',
  state: 'running',
  health: 'healthy',
  exitCode: null,
  details: undefined,
  ...extra,
});

describe('recovery after a crash', () => {
  it.each([
    ['nothing interrupted', [observed('testing-web')], [], ['testing-web']],
    ['candidate beside the current: removed', [observed('testing-web'), observed('testing-web.next', { health: 'starting' })], ['remove-candidate testing-web.next'], ['testing-web']],
    ['healthy candidate, old already retired: promoted', [observed('testing-web.next')], ['promote-candidate testing-web.next → testing-web'], ['testing-web']],
    ['candidate that never started, old retired: removed', [observed('testing-web.next', { state: 'created', health: 'none' })], ['remove-candidate testing-web.next'], []],
    ['previous only (crash after stopping the old): restored', [observed('testing-web.prev', { state: 'exited' })], ['restore-previous testing-web.prev → testing-web'], ['testing-web']],
    [
      'previous and an unproven new one: new removed, previous restored',
      [observed('testing-web.prev', { state: 'exited' }), observed('testing-web', { health: 'starting' })],
      ['restore-previous testing-web.prev → testing-web (after removing testing-web)'],
      ['testing-web'],
    ],
    ['previous and a healthy new one: update finished', [observed('testing-web.prev', { state: 'exited' }), observed('testing-web')], ['remove-previous testing-web.prev'], ['testing-web']],
    ['two current copies: the serving one is kept', [observed('testing-web', { state: 'exited', id: 'a' }), observed('testing-web', { id: 'b' })], ['remove-duplicate testing-web'], ['testing-web']],
  ])('%s', (_name, containers, steps, after) => {
    const result = planRecovery(containers);
    expect(result.steps.map((s) => `${s.kind} ${s.container.name}${s.rename ? ` → ${s.rename}` : ''}${s.removeFirst ? ` (after removing ${s.removeFirst.name})` : ''}`)).toEqual(steps);
    expect(result.after.map((c) => c.name)).toEqual(after);
    expect(result.after.every((c) => c.slot === 'current')).toBe(true);
  });
});
