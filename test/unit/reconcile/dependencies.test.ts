import { describe, expect, it } from 'vitest';
import { dependencyGate, replicaStatus } from '../../../src/reconcile/dependencies.js';
import type { DependencyStatus } from '../../../src/reconcile/dependencies.js';
import type { Action } from '../../../src/reconcile/types.js';
import { converge, environment, fakeWith, planOn, svc } from './support.js';

const summary = (p: Awaited<ReturnType<typeof planOn>>) => p.actions.map((a) => `${a.step} ${a.kind} ${a.service}: ${a.reasons.join('; ')}`);
const outcomes = (r: Awaited<ReturnType<typeof converge>>) => r.results.map((x) => `${x.action.service} ${x.outcome}: ${x.message}`);

const migrate = (extra = '') => svc('migrate', `command: ["migrate"]\nrestart: "no"\n${extra}`, 'migrate:1');
const webOn = (condition: string, required = '') => svc('web', `depends_on:\n  migrate:\n    condition: ${condition}\n${required}`);

describe('depends_on conditions', () => {
  it('runs a job that exits 0, then starts its dependant; the finished job is not drift', async () => {
    const runtime = fakeWith('busybox:1.35', 'migrate:1');
    runtime.exits.set('migrate:1', 0);
    const env = await environment({ 'migrate.yaml': migrate(), 'web.yaml': webOn('service_completed_successfully') });
    const result = await converge(runtime, env);
    expect(result.outcome).toBe('converged');
    expect(outcomes(result)).toEqual(['migrate ok: job testing-migrate completed (exit code 0)', 'web ok: created testing-web (busybox:1.35)']);
    expect(runtime.names()).toEqual(['testing-migrate migrate:1 exited', 'testing-web busybox:1.35 running']);
    const again = await planOn(runtime, env);
    expect(summary(again)).toEqual(['1 noop migrate: job completed (exit code 0): not run again until its spec changes', '2 noop web: in sync']);
  });

  it('a job that exits non-zero fails, its dependant is skipped with the reason, and the failed job is not re-run every check', async () => {
    const runtime = fakeWith('busybox:1.35', 'migrate:1');
    runtime.exits.set('migrate:1', 3);
    const env = await environment({ 'migrate.yaml': migrate(), 'web.yaml': webOn('service_completed_successfully') });
    const result = await converge(runtime, env);
    expect(result.outcome).toBe('failed');
    expect(outcomes(result)).toEqual([
      'migrate failed: job testing-migrate exited with code 3',
      'web skipped: skipped: dependency migrate failed (job testing-migrate exited with code 3) (condition: service_completed_successfully)',
    ]);
    expect(result.results[0]!.logTail).toContain('log of testing-migrate');
    expect(runtime.byName('testing-web')).toBeUndefined();
    const again = await planOn(runtime, env);
    expect(summary(again)[0]).toBe('1 noop migrate: job failed (exit code 3): not run again until its spec changes (push a fix); its dependants wait');
    const rerun = await converge(runtime, env);
    expect(outcomes(rerun)).toEqual(['web skipped: skipped: dependency migrate is exited (exit code 3) (condition: service_completed_successfully)']);
  });

  it('re-runs a job when its spec changes (the old run is removed first)', async () => {
    const runtime = fakeWith('busybox:1.35', 'migrate:1');
    runtime.exits.set('migrate:1', 0);
    await converge(runtime, await environment({ 'migrate.yaml': migrate(), 'web.yaml': webOn('service_completed_successfully') }));
    const changed = await environment({ 'migrate.yaml': migrate('environment: { STEP: "2" }\n'), 'web.yaml': webOn('service_completed_successfully') });
    const result = await converge(runtime, changed);
    expect(outcomes(result)).toEqual(['migrate ok: job testing-migrate completed (exit code 0)']);
    expect(runtime.writes.slice(-4)).toEqual(['stop testing-migrate', 'remove testing-migrate', 'create testing-migrate', 'start testing-migrate']);
  });

  it('service_started: a dependency that was rolled back still runs, so the dependant goes ahead', async () => {
    const runtime = fakeWith('busybox:1.35', 'migrate:1', 'broken:1');
    const env = await environment({ 'migrate.yaml': svc('migrate', '', 'migrate:1'), 'web.yaml': webOn('service_started') });
    await converge(runtime, env);
    runtime.failing.set('broken:1', 'unhealthy');
    const next = await environment({ 'migrate.yaml': svc('migrate', 'healthcheck: { test: ["CMD", "true"] }\n', 'broken:1'), 'web.yaml': webOn('service_started', 'environment: { V: "2" }\n') });
    const result = await converge(runtime, next);
    expect(result.results.map((r) => `${r.action.service} ${r.outcome}`)).toEqual(['migrate rolled-back', 'web ok']);
  });

  it.each([
    ['service_healthy, required', '', 'skipped'],
    ['service_healthy, required: false', '    required: false\n', 'ok'],
  ])('a failed dependency: %s → dependant %s', async (_name, required, expected) => {
    const runtime = fakeWith('busybox:1.35', 'migrate:1');
    runtime.failing.set('migrate:1', 'exit');
    const env = await environment({ 'migrate.yaml': svc('migrate', '', 'migrate:1'), 'web.yaml': webOn('service_healthy', required) });
    const result = await converge(runtime, env);
    expect(result.results.map((r) => `${r.action.service} ${r.outcome}`)).toEqual(['migrate failed', `web ${expected}`]);
  });

  it('an optional dependency that no manifest declares does not block (required: false)', async () => {
    const runtime = fakeWith('busybox:1.35');
    const env = await environment({ 'web.yaml': svc('web', 'depends_on:\n  cache:\n    condition: service_healthy\n    required: false\n') });
    const result = await converge(runtime, env);
    expect(outcomes(result)).toEqual(['web ok: created testing-web (busybox:1.35)']);
  });

  it('a restart: "no" container that exited 0 is finished, not drift; with another restart policy it is drift', async () => {
    const runtime = fakeWith('busybox:1.35');
    const env = await environment({ 'once.yaml': svc('once', 'restart: "no"\n'), 'web.yaml': svc('web') });
    await converge(runtime, env);
    for (const name of ['testing-once', 'testing-web']) Object.assign(runtime.byName(name)!, { state: 'exited', exitCode: 0 });
    expect(summary(await planOn(runtime, env))).toEqual([
      '1 noop once: exited with code 0 and restart is "no": finished, not drift',
      '1 restart web: stopped (exited, exit code 0)',
    ]);
  });
});

describe('dependencyGate', () => {
  const noop = (observed: Action['observed']): Action => ({ kind: 'noop', service: 'db', image: 'x', reasons: [], step: 1, observed });
  it.each([
    ['running healthy', noop({ state: 'running', health: 'healthy', exitCode: null }), false, 'healthy'],
    ['running, no healthcheck', noop({ state: 'running', health: 'none', exitCode: null }), false, 'healthy'],
    ['running, a job', noop({ state: 'running', health: 'none', exitCode: null }), true, 'started'],
    ['health starting', noop({ state: 'running', health: 'starting', exitCode: null }), false, 'started'],
    ['exited 0', noop({ state: 'exited', health: 'none', exitCode: 0 }), true, 'completed'],
    ['exited 1', noop({ state: 'exited', health: 'none', exitCode: 1 }), true, 'failed'],
    ['no container', noop(undefined), false, 'missing'],
  ])('a noop dependency %s is %s', (_n, action, job, state) => {
    expect(replicaStatus(action, undefined, job).state).toBe(state);
  });

  it.each([
    ['service_started', 'started', true],
    ['service_started', 'completed', true],
    ['service_healthy', 'started', false],
    ['service_healthy', 'healthy', true],
    ['service_completed_successfully', 'healthy', false],
    ['service_completed_successfully', 'completed', true],
    ['service_completed_successfully', 'failed', false],
  ] as const)('%s is satisfied by %s: %s', async (condition, state, go) => {
    const env = await environment({ 'db.yaml': svc('db'), 'web.yaml': svc('web', `depends_on:\n  db:\n    condition: ${condition}\n`) });
    const web = env.services.find((s) => s.name === 'web')!;
    expect(dependencyGate(web, (): DependencyStatus => ({ state })).go).toBe(go);
  });
});
