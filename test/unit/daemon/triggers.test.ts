import { describe, expect, it } from 'vitest';
import type { DeployInput, DeployResult, DeployStep } from '../../../src/daemon/deploy-step.js';
import type { Trigger } from '../../../src/daemon/work-queue.js';
import { envFiles, harness, harnessPerTest, intervalMs, twoEnvironments } from './support.js';

const { started, stopWith } = harnessPerTest();

const two = twoEnvironments;

describe('every trigger', () => {
  // remote: asks the remote (one ls-remote); observes: environments observed on the engine without a new commit.
  it.each<[string, (h: Awaited<ReturnType<typeof harness>>) => void | Promise<void>, { remote: number; observed: string[] }]>([
    ['poll', async (h) => void (await h.clock.advance(intervalMs * 1.01)), { remote: 1, observed: [] }],
    ['webhook', (h) => h.daemon.trigger({ kind: 'webhook', reason: 'webhook (github): push to main' }), { remote: 1, observed: [] }],
    ['watch', (h) => h.daemon.trigger({ kind: 'watch', reason: 'commit in the local repository' }), { remote: 1, observed: [] }],
    ['sync API', (h) => h.daemon.syncNow('sync API'), { remote: 1, observed: ['alpha', 'beta'] }],
    ['sync.schedule', (h) => h.schedules.fire('beta', 'sync'), { remote: 0, observed: ['beta'] }],
    ['docker event', (h) => h.daemon.trigger({ kind: 'docker-event', reason: 'docker event: beta-web die', heal: ['beta'], remote: false }), { remote: 0, observed: ['beta'] }],
    ['docker event of an unmanaged environment', (h) => h.daemon.trigger({ kind: 'docker-event', reason: 'docker event: other-web die', heal: ['other'], remote: false }), { remote: 0, observed: [] }],
  ])('%s', async (_name, fire, want) => {
    const h = await started(two);
    await h.poll();
    const before = { remote: h.git.count('ls-remote'), alpha: (await h.counts('alpha')).observes, beta: (await h.counts('beta')).observes };
    await fire(h);
    await h.settle();
    expect(h.git.count('ls-remote') - before.remote).toBe(want.remote);
    const observed = [(await h.counts('alpha')).observes > before.alpha ? 'alpha' : '', (await h.counts('beta')).observes > before.beta ? 'beta' : ''].filter(Boolean);
    expect(observed).toEqual(want.observed);
  });

  it('verify.schedule runs the tests and pushes a marker, without a deploy', async () => {
    const h = await started(two);
    const markers = h.git.subjects().filter((s) => s.startsWith('alpha: ')).length;
    const applies = (await h.counts('alpha')).applies;
    h.schedules.fire('alpha', 'verify');
    await h.settle();
    expect(h.git.subjects().filter((s) => s.startsWith('alpha: ')).length).toBe(markers + 1);
    expect((await h.counts('alpha')).applies).toBe(applies);
    expect(h.env('alpha').decisions[0]).toMatchObject({ kind: 'verify', result: 'passed' });
  });

  it('a docker event heals a container stopped by hand', async () => {
    const h = await started(two);
    const web = h.runtime.byName('beta-web')!;
    await h.runtime.stopContainer(web.id);
    h.daemon.trigger({ kind: 'docker-event', reason: 'docker event: beta-web die', heal: ['beta'], remote: false });
    await h.settle();
    expect(h.runtime.byName('beta-web')!.state).toBe('running');
    expect(h.env('beta').decisions.find((d) => d.kind === 'heal')?.reason).toMatch(/^restart web: stopped .*\(trigger: docker event: beta-web die\)$/);
  });

  it('a docker event coalesced with a new head (a marker, a change elsewhere) still heals', async () => {
    const h = await started(two);
    await h.runtime.stopContainer(h.runtime.byName('beta-web')!.id);
    h.git.land({ 'README.md': 'docs\n' }, 'docs');
    h.daemon.trigger({ kind: 'webhook', reason: 'webhook (github): push' });
    h.daemon.trigger({ kind: 'docker-event', reason: 'docker event: beta-web die', heal: ['beta'], remote: false });
    await h.settle();
    expect(h.runtime.byName('beta-web')!.state).toBe('running');
    expect(h.env('beta').decisions.some((d) => d.kind === 'heal')).toBe(true);
  });

  it('triggers arriving during a cycle coalesce into one more cycle', async () => {
    const held = new HeldDeploy();
    const h = await harness(envFiles('alpha', 'app:1'), { deployFor: () => held, start: false });
    stopWith(() => release(h, held));
    h.daemon.start();
    await ticks();
    expect(held.started).toHaveLength(1);
    const burst: Trigger[] = [
      { kind: 'webhook', reason: 'webhook 1' },
      { kind: 'webhook', reason: 'webhook 2' },
      { kind: 'watch', reason: 'watch' },
      { kind: 'poll', reason: 'poll' },
      { kind: 'docker-event', reason: 'docker event', heal: ['alpha'], remote: false },
    ];
    for (const t of burst) h.daemon.trigger(t);
    await release(h, held, false);
    // The start cycle, then one cycle for all five.
    expect(h.cycles()).toBe(2);
  });
});

async function ticks(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

async function release(h: Awaited<ReturnType<typeof harness>>, held: HeldDeploy, stopping = true): Promise<void> {
  held.hold = false;
  held.free();
  await h.settle();
  if (stopping) await h.daemon.stop();
}

/** A deploy step that holds its rollout until released or aborted: the extension point, and a way to catch a rollout in flight. */
class HeldDeploy implements DeployStep {
  started: DeployInput[] = [];
  aborted: string[] = [];
  private release: (() => void) | undefined;
  /** Only the first rollout is held. */
  hold = true;
  async deploy(input: DeployInput): Promise<DeployResult> {
    this.started.push(input);
    if (this.hold && this.started.length === 1) {
      await new Promise<void>((resolve) => {
        this.release = resolve;
        input.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    if (input.signal?.aborted) this.aborted.push(`${input.env.name}@${input.revision.slice(0, 7)}: ${String(input.signal.reason)}`);
    const superseded = input.signal?.aborted === true;
    return { state: superseded ? 'progressing' : 'synced', services: [], errors: [], decisions: [], applied: !superseded, failed: undefined, changed: false, converged: !superseded, transient: [] };
  }
  free(): void {
    this.release?.();
  }
}

describe('a newer revision supersedes a rollout', () => {
  it('aborts the rollout in flight when a new commit changes the environment, then deploys the newer one', async () => {
    const held = new HeldDeploy();
    const h = await harness(envFiles('alpha', 'app:1'), { deployFor: () => held, start: false });
    stopWith(() => release(h, held));
    h.daemon.start();
    await ticks();
    expect(held.started).toHaveLength(1);
    const newer = h.git.land(envFiles('alpha', 'app:2'), 'alpha: app:2');
    h.daemon.trigger({ kind: 'webhook', reason: 'webhook (github): push' });
    await ticks();
    held.hold = false;
    await h.settle();
    expect(held.aborted).toEqual([expect.stringMatching(new RegExp(`^alpha@\\w{7}: superseded by revision ${newer.slice(0, 7)}`))]);
    expect(held.started.at(-1)!.revision).toBe(newer);
    expect(h.env('alpha').revision.applied).toBe(newer);
  });

  // The race CI caught: a look at the remote, started during one rollout, answered only after the next cycle had
  // taken the same trigger (and the new revision) but before it had set its revision. It aborted that cycle,
  // which then dropped the new revision, and nothing was left pending to deploy it.
  it('a slow look at the remote supersedes only the rollout it was started for, not the cycle that took the new revision', async () => {
    const held = new HeldDeploy();
    const h = await harness(envFiles('alpha', 'app:1'), { deployFor: () => held, start: false });
    stopWith(() => release(h, held));
    h.daemon.start();
    await ticks();
    expect(held.started).toHaveLength(1);
    const newer = h.git.land(envFiles('alpha', 'app:2'), 'alpha: app:2');
    const peekAnswers = h.git.hold('ls-remote');
    const nextCycleAnswers = h.git.hold('ls-remote');
    h.daemon.trigger({ kind: 'watch', reason: 'commit in the local repository' });
    await ticks();
    held.hold = false;
    held.free();
    await ticks();
    peekAnswers();
    await ticks();
    nextCycleAnswers();
    await h.settle();
    expect(held.aborted).toEqual([]);
    expect(held.started.map((s) => s.revision.slice(0, 7))).toContain(newer.slice(0, 7));
    expect(h.env('alpha').revision.applied).toBe(newer);
  });

  // The race CI caught next: a look at the remote started while a cycle was still fetching the new revision
  // compared trees (two git calls) while that cycle went on to deploy the same revision, then aborted it.
  // The cycle had already taken the revision as its own, so the next one found nothing new to deploy.
  it('a look at the remote that compared trees while the cycle took the same revision leaves that rollout alone', async () => {
    const steps: DeployInput[] = [];
    let newer = '';
    let free = () => {};
    const step: DeployStep = {
      async deploy(input) {
        steps.push(input);
        if (input.revision === newer && !input.signal?.aborted) await new Promise<void>((resolve) => ((free = resolve), input.signal?.addEventListener('abort', () => resolve(), { once: true })));
        const aborted = input.signal?.aborted === true;
        return { state: aborted ? 'progressing' : 'synced', services: [], errors: [], decisions: [], applied: !aborted, failed: undefined, changed: false, converged: !aborted, transient: [] };
      },
    };
    const h = await harness(envFiles('alpha', 'app:1'), { deployFor: () => step, start: false });
    stopWith(async () => {
      free();
      await h.settle();
      await h.daemon.stop();
    });
    h.daemon.start();
    await h.settle();
    newer = h.git.land(envFiles('alpha', 'app:2'), 'alpha: app:2');
    const cycleAsks = h.git.hold('ls-remote');
    const lookCompares = h.git.hold('subtrees');
    h.daemon.trigger({ kind: 'watch', reason: 'commit in the local repository' });
    await ticks();
    h.daemon.trigger({ kind: 'watch', reason: 'commit in the local repository' }); // the look at the remote, during that cycle
    await ticks();
    cycleAsks();
    await ticks(60);
    expect(steps.at(-1)?.revision).toBe(newer);
    lookCompares();
    await ticks(60);
    free();
    await h.settle();
    expect(steps.filter((s) => s.revision === newer).map((s) => s.signal?.aborted ?? false)).not.toContain(true);
    expect(h.env('alpha').revision.applied).toBe(newer);
  });

  it('a commit that leaves the environment’s tree alone does not supersede it', async () => {
    const held = new HeldDeploy();
    const h = await harness(envFiles('alpha', 'app:1'), { deployFor: () => held, start: false });
    stopWith(() => release(h, held));
    h.daemon.start();
    await ticks();
    h.git.land({ 'README.md': 'docs\n' }, 'docs');
    h.daemon.trigger({ kind: 'webhook', reason: 'webhook (github): push' });
    await ticks();
    await release(h, held, false);
    expect(held.aborted).toEqual([]);
    expect(held.started).toHaveLength(1);
  });
});
