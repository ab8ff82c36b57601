import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { GitError, RegistryError } from '../../../src/errors.js';
import { ImageAutomation } from '../../../src/images/automation.js';
import { RateLimitedError } from '../../../src/registry/client.js';
import type { BumpResult } from '../../../src/images/bump-commit.js';
import type { ImageBump } from '../../../src/images/bump-message.js';
import type { ImagePolicy } from '../../../src/images/policy.js';
import type { LoadedEnvironment } from '../../../src/manifest/types.js';
import { fakeRegistryReader } from '../../support/fake-registry-reader.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const R = '127.0.0.1:5000/app';
const O = 'reg.example.com/other';
const semver1: ImagePolicy = { kind: 'semver', range: '^1', prereleases: false, pinDigest: false };

/** Only the parts image automation reads. */
function env(name: string, services: { name: string; image: string; policy?: ImagePolicy }[]): LoadedEnvironment {
  return { name, environment: {} as LoadedEnvironment['environment'], services: services.map((s) => ({ name: s.name, spec: { image: s.image }, imagePolicy: s.policy ?? null })) } as LoadedEnvironment;
}

function setup(options: { commitFails?: boolean; intervalMs?: number } = {}) {
  const registry = fakeRegistryReader({ [R]: { '1.0.0': d('a'), '1.0.1': d('b'), '2.0.0': d('c'), latest: d('c') }, [O]: { '3.1.0': d('e') } });
  const commits: { environment: string; bumps: ImageBump[] }[] = [];
  let clock = Date.parse('2026-11-29T10:00:00Z');
  const automation = new ImageAutomation({
    registry: registry.reader,
    log: pino({ level: 'silent' }),
    now: () => new Date(clock),
    intervalMsFor: () => options.intervalMs ?? 0,
    commit: async (environment, bumps): Promise<BumpResult> => {
      if (options.commitFails) throw new GitError('git push origin main failed: connection refused', { transient: true });
      commits.push({ environment, bumps });
      return { outcome: 'committed', commit: 'c0ffee1234', applied: bumps, skipped: [], problems: [], attempts: 1 };
    },
  });
  return { automation, registry, commits, advance: (ms: number) => (clock += ms) };
}

describe('ImageAutomation', () => {
  it('commits one bump per environment, ignores unwatched services, and shows status per watched service', async () => {
    const { automation, commits } = setup();
    const envs = [
      env('autotest', [{ name: 'web', image: `${R}:1.0.0`, policy: semver1 }, { name: 'db', image: 'postgres:16' }, { name: 'cache', image: `${R}:latest`, policy: { kind: 'digest' } }]),
      env('autolater', [{ name: 'web', image: `${R}:1.0.1`, policy: semver1 }]),
    ];
    expect(await automation.poll(envs)).toBe(1);
    expect(commits).toEqual([{ environment: 'autotest', bumps: [
      { service: 'cache', from: `${R}:latest`, to: `${R}:latest@${d('c')}`, policy: 'digest' },
      { service: 'web', from: `${R}:1.0.0`, to: `${R}:1.0.1`, policy: 'semver ^1' },
    ] }]);
    expect(automation.snapshot()).toEqual([
      { environment: 'autolater', service: 'web', registry: '127.0.0.1:5000', policy: 'semver ^1', current: `${R}:1.0.1`, newestAllowed: `${R}:1.0.1`, lastCheck: '2026-11-29T10:00:00.000Z', lastError: null, lastUpdate: null },
      expect.objectContaining({ environment: 'autotest', service: 'cache', lastUpdate: { to: `${R}:latest@${d('c')}`, commit: 'c0ffee1234', at: '2026-11-29T10:00:00.000Z' } }),
      expect.objectContaining({ environment: 'autotest', service: 'web', newestAllowed: `${R}:1.0.1`, lastError: null, lastUpdate: { to: `${R}:1.0.1`, commit: 'c0ffee1234', at: '2026-11-29T10:00:00.000Z' } }),
    ]);
  });

  it('asks each registry once per repository per poll, and paces registries by their interval', async () => {
    const { automation, registry, advance } = setup({ intervalMs: 60_000 });
    const envs = [env('a', [{ name: 'web', image: `${R}:1.0.1`, policy: semver1 }]), env('b', [{ name: 'web', image: `${R}:1.0.1`, policy: semver1 }])];
    await automation.poll(envs);
    expect(registry.asked).toEqual([`tags ${R}`]);
    advance(30_000);
    await automation.poll(envs);
    expect(registry.asked).toHaveLength(1);
    advance(30_000);
    await automation.poll(envs);
    expect(registry.asked).toHaveLength(2);
  });

  it('a registry error is shown on the service and nothing is committed', async () => {
    const failing = fakeRegistryReader({}, { [R]: new RegistryError('registry 127.0.0.1:5000, repository app: cannot list tags: the registry refused the credentials from auths["127.0.0.1:5000"] (401); run `docker login 127.0.0.1:5000` on the daemon host') });
    const a = new ImageAutomation({ registry: failing.reader, log: pino({ level: 'silent' }), now: () => new Date(0), commit: async () => { throw new Error('must not commit'); } });
    expect(await a.poll([env('autotest', [{ name: 'web', image: `${R}:1.0.0`, policy: semver1 }])])).toBe(0);
    expect(a.snapshot()[0]).toMatchObject({ lastError: expect.stringContaining('refused the credentials'), newestAllowed: null, lastCheck: '1970-01-01T00:00:00.000Z' });
  });

  it('a registry that answers 429 with Retry-After is not asked again before then', async () => {
    let clock = 0;
    const limited = fakeRegistryReader({}, { [R]: new RateLimitedError('registry 127.0.0.1:5000, repository app: cannot list tags: rate-limited (429, Retry-After 300 s) after 1 tries; stagecoach tries again on the next poll', 300_000) });
    const a = new ImageAutomation({ registry: limited.reader, log: pino({ level: 'silent' }), now: () => new Date(clock), intervalMsFor: () => 1_000, commit: async () => { throw new Error('must not commit'); } });
    const envs = [env('autotest', [{ name: 'web', image: `${R}:1.0.0`, policy: semver1 }])];
    await a.poll(envs);
    expect(a.snapshot()[0]!.lastError).toContain('rate-limited (429, Retry-After 300 s)');
    for (clock = 1_000; clock < 300_000; clock += 60_000) await a.poll(envs);
    expect(limited.asked).toHaveLength(1);
    clock = 300_000;
    await a.poll(envs);
    expect(limited.asked).toHaveLength(2);
  });

  it('a failed commit is shown on each service of it', async () => {
    const { automation } = setup({ commitFails: true });
    expect(await automation.poll([env('autotest', [{ name: 'web', image: `${R}:1.0.0`, policy: semver1 }])])).toBe(0);
    expect(automation.snapshot()[0]!.lastError).toBe('commit failed: git push origin main failed: connection refused');
  });

  it('forgets services that are no longer watched', async () => {
    const { automation } = setup();
    await automation.poll([env('autotest', [{ name: 'web', image: `${R}:1.0.1`, policy: semver1 }])]);
    await automation.poll([env('autotest', [{ name: 'web', image: `${R}:1.0.1` }])]);
    expect(automation.snapshot()).toEqual([]);
  });
});
