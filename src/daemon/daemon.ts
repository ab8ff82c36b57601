import type { LoadedEnvironment } from '../manifest/types.js';
import { hostPolicyProblems } from '../policy/host-policy.js';
import { MarkerIndex } from '../promotion/marker-index.js';
import { revisionLabel } from '../reconcile/format.js';
import type { DaemonDeps } from './daemon-deps.js';
import type { FailedUpdate } from './deploy-step.js';
import { DesiredState } from './desired-state.js';
import { checkGate } from './gate-check.js';
import * as step from './environment-cycle.js';
import { recordInvalid, recordUnreachable } from './invalid.js';
import { countedPeek } from './remote-peek.js';
import { Schedules } from './schedules.js';
import type { ImageAutomation } from '../images/automation.js';
import { StatusStore } from './status-store.js';
import type { EnvironmentPatch } from './status-store.js';
import type { DaemonStatus } from './status.js';
import { Verifier } from './verifier.js';
import type { CycleOutcome, Trigger, Work } from './work-queue.js';
import { WorkQueue } from './work-queue.js';

export type { DaemonDeps } from './daemon-deps.js';

/**
 * The loop, composed: the work queue decides when, the desired state (keyed
 * by each environment's git tree) decides what changed, the deploy step and
 * the verification act, and the status store, written only here, records it.
 */
export class Daemon {
  readonly store: StatusStore;
  private readonly queue: WorkQueue;
  private readonly desired: DesiredState;
  private readonly index: MarkerIndex;
  private readonly schedules: Pick<Schedules, 'update' | 'stop'>;
  private readonly lastGood = new Map<string, LoadedEnvironment>();
  private readonly failed = new Map<string, FailedUpdate>();
  /** The tree of each environment last acted on (deployed, found invalid or blocked): the key of its desired state. */
  private readonly handled = new Map<string, string | null>();
  private readonly verifier: Verifier;
  private peeking = false;
  private revision: string | null = null;
  private opened = false;
  private proposalsRead = false;

  constructor(private readonly deps: DaemonDeps) {
    this.store = new StatusStore({ repo: deps.git.displayUrl, branch: deps.branch });
    this.sink = { store: this.store, metrics: deps.metrics, log: deps.log };
    this.peek = countedPeek(deps);
    this.desired = new DesiredState({ git: deps.git, validators: deps.validators, metrics: deps.metrics });
    this.index = new MarkerIndex(deps.git, deps.trust?.verifyMarkers);
    this.verifier = new Verifier({ ...deps, runtimeFor: (env) => deps.runtimeFor(env.environment), status: (name) => this.store.environment(name), all: () => this.desired.all() });
    const fire = (env: string, kind: 'sync' | 'verify') => this.trigger(kind === 'sync' ? { kind: 'schedule', reason: 'schedule (sync.schedule)', heal: [env], remote: false } : { kind: 'schedule', reason: 'schedule (verify.schedule)', verify: [env], remote: false });
    this.schedules = deps.schedules ? deps.schedules(fire) : new Schedules(fire);
    this.queue = new WorkQueue({
      clock: deps.clock,
      intervalMs: deps.intervalMs,
      healEveryPolls: deps.healEveryPolls,
      random: deps.random,
      retryBaseMs: deps.retryBaseMs,
      run: (work, signal) => this.cycle(work, signal),
      onBusy: () => void this.peekForNewerRevision(),
      managed: () => [...this.lastGood.keys()],
      onRetryScheduled: (envs, ms) => {
        for (const env of envs) this.store.patch(env, step.retryPatch(this.store.environment(env), ms, deps.clock.now()));
      },
    });
  }

  /** The status as of now: an immutable snapshot. */
  snapshot(): DaemonStatus {
    return this.store.snapshot();
  }

  start(): void {
    this.trigger({ kind: 'start', reason: 'start', full: true });
  }

  /** Asks for a cycle; drift and verification requests for environments this daemon does not manage are dropped. */
  trigger(t: Trigger): void {
    const heal = (t.heal ?? []).filter((env) => this.lastGood.has(env));
    const verify = (t.verify ?? []).filter((env) => this.lastGood.has(env));
    if (t.remote === false && !t.full && heal.length === 0 && verify.length === 0) return;
    this.deps.log.debug({ reason: t.reason, kind: t.kind, heal }, 'trigger');
    this.queue.trigger({ ...t, heal, verify });
  }

  /** A manual sync (API): forgets failed updates so they are tried again. */
  syncNow(reason: string): void {
    this.trigger({ kind: 'sync-api', reason, full: true, forgetFailures: true });
  }

  /** Resolves when the daemon has nothing to do (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  async stop(): Promise<void> {
    await this.queue.stop();
    await this.schedules.stop();
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  /**
   * During a rollout: one ls-remote; when the branch moved, a fetch and the
   * environments' trees. A revision that changes an environment's tree
   * supersedes the rollout at its next safe point; a marker does not.
   */
  private async peekForNewerRevision(): Promise<void> {
    const base = this.revision;
    const cycle = this.queue.cycle;
    if (!this.opened || !this.queue.busy || this.peeking || !base) return;
    this.peeking = true;
    try {
      const head = await this.peek();
      if (head === undefined || head === base) return;
      const fetched = await this.deps.git.fetch();
      // Only the rollout this look was started during is superseded: a later cycle took the trigger, and with it the new
      // revision. The cycle may take it while the trees are compared (two git calls), so the revision is checked again after.
      if (this.revision !== base) return;
      const changed = await this.desired.changedBetween(base, fetched, [...this.lastGood.keys()]);
      if (changed && this.revision === base) this.queue.supersede(`superseded by revision ${revisionLabel(fetched)}`, cycle);
    } catch (error) {
      this.deps.log.debug({ err: (error as Error).message }, 'cannot look for a newer revision during the rollout');
    } finally {
      this.peeking = false;
    }
  }

  /** One ls-remote at a time however many triggers ask (a burst of webhooks shares it), each one counted. */
  private readonly peek: () => Promise<string | undefined>;
  private readonly sink: Parameters<typeof recordInvalid>[0];
  /** Some environment's containers changed in the cycle running (afterChanges is told at its end). */
  private changedInCycle = false;

  private async cycle(work: Work, signal: AbortSignal): Promise<CycleOutcome> {
    const outcome: CycleOutcome = { sourceDown: false, retry: [], done: [] };
    try {
      if (work.forgetFailures) this.failed.clear();
      let head = this.revision;
      if (work.remote || work.full || !this.opened) {
        const fetched = await this.updateSource();
        outcome.sourceDown = fetched === undefined;
        head = fetched ?? this.revision;
        if (fetched !== undefined) await this.flushOutbox();
      }
      if (!head) return outcome;
      const ran = head !== this.revision || work.full ? await this.reconcileRevision(head, work, signal, outcome) : new Set<string>();
      // Drift checks asked for (Docker events, schedules, retries, the periodic one) of environments this cycle did not just deploy.
      for (const name of new Set([...work.heal, ...work.periodic])) {
        const env = this.lastGood.get(name);
        const periodic = !work.heal.has(name); // only the periodic safety net may be vouched for by the engine's events
        if (env && !ran.has(name) && !signal.aborted) await this.runEnvironment(env, this.store.environment(name)?.revision.lastGood ?? head, work.reason, signal, outcome, periodic);
      }
      for (const name of work.verify) {
        const env = this.lastGood.get(name);
        if (env && !signal.aborted) await this.verify(env, this.store.environment(name)?.revision.applied ?? head, work.reason);
      }
      if ((work.remote || work.full) && !outcome.sourceDown && !signal.aborted && this.deps.images) await this.pollImages(this.deps.images);
    } catch (error) {
      this.deps.log.error({ err: error }, 'cycle failed unexpectedly');
    }
    if (this.changedInCycle) {
      this.changedInCycle = false;
      this.deps.afterChanges?.();
    }
    this.deps.onCycle?.(this.store.snapshot());
    return outcome;
  }

  /** Registries are asked inside the cycle, after the environments settled, so a bump commit never races the daemon's own git work. */
  private async pollImages(images: ImageAutomation): Promise<void> {
    if ((await images.poll([...this.lastGood.values()])) > 0) this.trigger({ kind: 'image-update', reason: 'image update committed' });
    this.store.setImages(images.snapshot());
  }

  /** Asks the remote whether the branch moved (one ls-remote) and fetches only when it did; undefined when the remote cannot be reached. */
  private async updateSource(): Promise<string | undefined> {
    const { git, metrics, log } = this.deps;
    try {
      if (!this.opened) {
        await git.open?.();
        this.opened = true;
      }
      const head = await git.remoteHead();
      metrics.gitQueries.inc({ result: 'ok' });
      this.store.setRemote({ head, checkedAt: this.now(), error: null });
      if (head === this.revision) return head;
      const fetched = await git.fetch();
      metrics.gitFetches.inc({ result: 'ok' });
      return fetched;
    } catch (error) {
      const message = (error as Error).message;
      metrics.gitQueries.inc({ result: 'error' });
      metrics.error('source');
      this.store.setRemote({ checkedAt: this.now(), error: message });
      log.warn({ err: message, transient: (error as { transient?: boolean }).transient === true }, 'config repo unreachable; serving the last good revisions');
      return undefined;
    }
  }

  /** Acts on every environment whose tree changed; resolves to those it ran. */
  private async reconcileRevision(revision: string, work: Work, signal: AbortSignal, outcome: CycleOutcome): Promise<Set<string>> {
    const ran = new Set<string>();
    const previous = this.revision;
    const environments = await this.desired.at(revision, this.deps.only);
    await this.index.refresh(revision);
    this.revision = revision;
    for (const at of environments) {
      if (signal.aborted) break;
      const current = this.store.environment(at.name);
      const recheckGate = current?.state === 'blocked';
      // Same tree, same desired state: nothing to load, observe or apply (a marker, a change elsewhere).
      if (at.tree === this.handled.get(at.name) && !work.full && !recheckGate) continue;
      const env = at.load.loaded;
      // trust.requireSignedHead, per environment: the commit its desired state comes from must be signed (the daemon's unsigned markers on top change no tree).
      const unsigned = env ? await this.deps.trust?.headRefusal(at.revision) : undefined;
      if (unsigned) {
        recordInvalid(this.sink, at.name, step.unsignedPatch(unsigned, at.revision, current, this.now()), at.revision, 'revision refused: not signed by a trusted key');
        this.handled.set(at.name, at.tree);
        continue;
      }
      // The operator's policy, checked before the gate or any engine is contacted: a refused endpoint never sees a secret.
      const refused = env && at.problems.length === 0 && this.deps.policy ? await hostPolicyProblems(this.deps.policy, env) : [];
      if (!env || at.problems.length > 0 || refused.length > 0) {
        recordInvalid(this.sink, at.name, step.invalidPatch(refused.length ? { ...at, problems: refused } : at, at.revision, current, this.now()), at.revision, 'invalid revision; keeping the last good one');
        this.handled.set(at.name, at.tree);
        continue;
      }
      if (await checkGate(this.deps, this.store, this.index, env, at.revision, this.now())) {
        this.handled.set(at.name, at.tree);
        continue;
      }
      this.lastGood.set(at.name, env);
      this.store.patch(at.name, { revision: { desired: at.revision, lastGood: at.revision } });
      ran.add(at.name);
      if (await this.runEnvironment(env, at.revision, work.reason, signal, outcome)) this.handled.set(at.name, at.tree);
    }
    // Superseded or stopping, even in the middle of an environment's rollout: the next cycle looks at this revision
    // again (environments whose tree was handled are skipped then), rather than finding it already taken.
    if (signal.aborted) this.revision = previous;
    this.schedules.update([...this.lastGood.values()]);
    await this.describePromotions(environments.map((e) => e.name)).catch((error: unknown) => this.deps.log.warn({ err: (error as Error).message }, 'cannot read markers and proposals'));
    this.store.setReady();
    return ran;
  }

  /** Deploys one environment at a revision; false when a newer revision or a stop cut the rollout short. */
  private async runEnvironment(env: LoadedEnvironment, revision: string, trigger: string, signal: AbortSignal, outcome: CycleOutcome, periodic = false): Promise<boolean> {
    const current = this.store.environment(env.name);
    const progress = (patch: EnvironmentPatch) => this.store.patch(env.name, patch);
    try {
      const result = await this.deps.deployFor(env.environment).deploy({ env, revision, services: current?.services ?? [], failed: this.failed.get(env.name), autoApply: env.environment.sync.auto, trigger, periodic, signal, progress });
      if (result.changed) this.changedInCycle = true;
      if (result.failed) this.failed.set(env.name, result.failed);
      else this.failed.delete(env.name);
      this.store.patch(env.name, step.deployPatch(result, revision, (this.store.environment(env.name)?.blocked.length ?? 0) > 0));
      this.deps.metrics.setState(env.name, result.state);
      if (result.applied) this.deps.metrics.setRevision(env.name, revision);
      if (result.transient.length) outcome.retry.push(env.name);
      else outcome.done.push(env.name);
      if (!result.applied) return false;
      if (!result.converged || signal.aborted) return true;
      if (result.changed) await this.verify(env, revision, `deploy of ${revisionLabel(revision)}`);
      else if (step.unverified(env, this.index)) await this.verify(env, revision, 'no marker for what runs');
      return true;
    } catch (error) {
      recordUnreachable(this.sink, env.name, error, revision, this.now(), outcome.retry);
      return true;
    }
  }

  private async verify(env: LoadedEnvironment, revision: string, trigger: string): Promise<void> {
    await this.afterPush(await this.verifier.verify(env, revision, trigger));
  }

  /** Pushes markers still waiting (one whose push failed before). */
  private async flushOutbox(): Promise<void> {
    if (this.verifier.pending > 0) await this.afterPush(await this.verifier.flush());
  }

  /** When markers landed, the remote moved: the index reads them now, and the remote is looked at again so status and gates see it. */
  private async afterPush({ patches, pushed }: { patches: [string, EnvironmentPatch][]; pushed: string[] }): Promise<void> {
    this.store.patches(patches);
    if (pushed.length === 0) return;
    await this.index.refresh(pushed.at(-1)!).catch((error: unknown) => this.deps.log.warn({ err: (error as Error).message }, 'cannot read markers'));
    this.queue.trigger({ kind: 'marker', reason: 'marker pushed' });
  }

  private async describePromotions(names: readonly string[]): Promise<void> {
    // Proposal branches are read from the remote once, at the first cycle (cycles never overlap).
    const branches = this.proposalsRead ? undefined : await this.deps.git.remoteBranches('stagecoach/promote/').catch(() => []);
    this.proposalsRead = true;
    for (const name of names) this.store.patch(name, step.promotionsPatch(this.store.environment(name), this.index, name, branches));
  }
}
