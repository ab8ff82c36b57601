import { describe, expect, it } from 'vitest';
import { createBody } from '../../../src/runtime/create-body.js';
import { apiAtLeast, withStartInterval } from '../../../src/runtime/engine-version.js';
import { buildCreate } from '../../../src/reconcile/container-spec.js';
import { formatPlan } from '../../../src/reconcile/format.js';
import { environment, fakeWith, planOn, svc } from './support.js';

const withHealth = (extra: string) => svc('web', `healthcheck:\n  test: ["CMD", "true"]\n  interval: 10s\n${extra}`);

describe('healthcheck.start_interval', () => {
  it.each([
    ['1.41', '1.44', false],
    ['1.44', '1.44', true],
    ['1.45', '1.44', true],
    ['2.0', '1.44', true],
    ['1.9', '1.44', false],
  ])('API %s ≥ %s: %s', (a, b, expected) => {
    expect(apiAtLeast(a, b)).toBe(expected);
  });

  it.each([
    ['1.41', undefined],
    ['1.44', 2_000_000_000],
  ])('engine API %s: StartInterval in the create body is %s', async (version, expected) => {
    const env = await environment({ 'web.yaml': withHealth('  start_period: 30s\n  start_interval: 2s\n') });
    const create = buildCreate(env, env.services[0]!, 1, 'current', 'r1', () => undefined);
    const body = withStartInterval(createBody(create), create.healthcheck, version);
    expect((body.Healthcheck as { StartInterval?: number }).StartInterval).toBe(expected);
    expect(body.Healthcheck?.Interval).toBe(10_000_000_000);
  });

  it('a disabled healthcheck gets no StartInterval on any engine', async () => {
    const env = await environment({ 'web.yaml': svc('web', 'healthcheck:\n  disable: true\n') });
    const create = buildCreate(env, env.services[0]!, 1, 'current', 'r1', () => undefined);
    expect(withStartInterval(createBody(create), create.healthcheck, '1.45').Healthcheck).toEqual({ Test: ['NONE'] });
  });

  it.each([
    ['1.41', '  start_period: 30s\n  start_interval: 2s\n', 'note web: healthcheck.start_interval (2s) is not sent: the engine speaks API 1.41, start_interval needs 1.44 (Docker 25); during start_period it probes every interval (10s)'],
    ['1.44', '  start_period: 30s\n  start_interval: 2s\n', undefined],
    ['1.41', '', undefined],
  ])('plan on engine API %s says what it cannot send', async (version, extra, note) => {
    const runtime = fakeWith('busybox:1.35');
    runtime.engineApiVersion = version;
    const text = formatPlan(await planOn(runtime, await environment({ 'web.yaml': withHealth(extra) })));
    const line = text.split('\n').find((l) => l.includes('note web'))?.trim();
    expect(line).toBe(note);
  });
});
