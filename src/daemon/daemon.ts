import type { Logger } from 'pino';
import { isStagecoachError } from '../errors.js';
import { diskRepo } from '../manifest/files.js';
import { loadRepo } from '../manifest/load.js';
import { formatProblem } from '../manifest/problem.js';
import type { SchemaValidators } from '../manifest/schemas.js';
import type { EnvironmentManifest, LoadedEnvironment } from '../manifest/types.js';
import type { ReadyOptions } from '../reconcile/health.js';
import { revisionLabel } from '../reconcile/format.js';
import type { SecretSource } from '../reconcile/secrets.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { ConfigRepo } from '../source/config-repo.js';
import type { Metrics } from './metrics.js';
import type { FailedUpdate } from './reconcile-environment.js';
import { reconcileEnvironment } from './reconcile-environment.js';
import { Schedules } from './schedules.js';
import { gitIn } from '../source/git.js';
import { MarkerIndex } from '../promotion/marker-index.js';
import { gateReasons } from '../promotion/gate.js';
import { describeResults, imageDigests, promoteDownstream, verifyAndMark } from './promotion-steps.js';
import type { DaemonStatus, EnvironmentStatus } from './status.js';
import { emptyEnvironment, recordDecision } from './status.js';
import type { OperatorPolicy } from '../policy/types.js';
import { hostPolicyProblems } from '../policy/host-policy.js';
import { capList } from '../policy/cap-list.js';
import { singleFlight } from '../source/deliveries.js';
import { configureSigning } from '../promotion/signing.js';
import { headRefusal, markerVerifier } from '../promotion/trust.js';
import type { CommitTrust } from '../promotion/trust.js';

export interface DaemonDeps {
  repo: ConfigRepo;
  branch: string;
  /** Environments to manage; undefined = every folder under environments/. */
  only: string[] | undefined;
  intervalMs: number;
  /** Full drift check every this many polls (besides Docker events and cron). */
  healEveryPolls?: number;
  validators: SchemaValidators;
  runtimeFor: (env: EnvironmentManifest) => ContainerRuntime;
  secrets: SecretSource;
  /** The operator's policy; an environment it refuses is invalid (nothing is sent to its engine). */
  policy?: OperatorPolicy;
  /** Signing of the daemon's commits, and the keys markers and heads must be signed with. */
  trust?: CommitTrust;
  log: Logger;
  metrics: Metrics;
  now?: () => Date;
  random?: () => number;
  ready?: Partial<ReadyOptions>;
  /** Told after every cycle (the CLI prints "all environments in sync" from it). */
  onCycle?: (status: DaemonStatus) => void;
}

/** full: reload every environment; remote: ask the remote first; heal: environments to drift-check at their revision. */
type Work = { reason: string; full: boolean; remote: boolean; heal: Set<string>; verify: Set<string> };

/**
 * The loop: ask the remote whether the branch moved, fetch when it did, load
 * each environment; an invalid revision leaves that environment on its last
 * good one; a valid one is planned and applied. Between revisions, drift is
 * healed. Work is serialized; triggers arriving meanwhile coalesce, and a newer
 * revision supersedes a rollout at its next safe point.
 */
export class Daemon {
  readonly status: DaemonStatus;
  private readonly lastGood = new Map<string, LoadedEnvironment>();
  private readonly failed = new Map<string, FailedUpdate>();
  private readonly retry = new Set<string>();
  private revision: string | null = null;
  private opened = false;
  private pending: Work | null = null;
  private current: Promise<void> | null = null;
  private rollout: AbortController | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private polls = 0;
  private stopping = false;
  private readonly now: () => Date;
  private readonly schedules = new Schedules((env, kind) =>
    kind === 'sync' ? this.trigger('schedule (sync.schedule)', { heal: [env], remote: false }) : this.trigger('schedule (verify.schedule)', { verify: [env], remote: false }),
  );
  private index: MarkerIndex | null = null;
  private proposalsRead = false;
  /** A marker was committed but its push failed: the next successful fetch rebases and pushes it. */
  private unpushed = false;
  /** Every environment of the current revision (also those another daemon manages): promotion targets. */
  private allEnvironments: LoadedEnvironment[] = [];

  constructor(private readonly deps: DaemonDeps) {
    this.now = deps.now ?? (() => new Date());
    this.status = { ready: false, repo: deps.repo.displayUrl, branch: deps.branch, remote: { head: null, checkedAt: null, error: null }, environments: [] };
  }

  start(): void {
    this.trigger('start', { full: true });
  }

  /** Asks for a cycle; while one runs, requests coalesce into the next. */
  trigger(reason: string, options: { full?: boolean; heal?: string[]; verify?: string[]; remote?: boolean } = {}): void {
    if (this.stopping) return;
    const heal = (options.heal ?? []).filter((env) => this.lastGood.has(env));
    const verify = (options.verify ?? []).filter((env) => this.lastGood.has(env));
    const remote = options.remote ?? true;
    // Drift of an environment this daemon does not manage is none of its business.
    if (!remote && !options.full && heal.length === 0 && verify.length === 0) return;
    this.deps.log.debug({ reason, full: options.full, remote, heal }, 'trigger');
    const work: Work = this.pending ?? { reason, full: false, remote: false, heal: new Set(), verify: new Set() };
    work.full ||= options.full ?? false;
    work.remote ||= remote;
    for (const env of heal) work.heal.add(env);
    for (const env of verify) work.verify.add(env);
    if (!this.pending) work.reason = reason;
    this.pending = work;
    if (this.current) {
      if (remote) void this.peekForNewerRevision();
      return;
    }
    this.current = this.drain().finally(() => {
      this.current = null;
    });
  }

  /** SIGTERM: the step in flight finishes, nothing half-applied remains, no new work starts. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.rollout?.abort('the daemon is stopping');
    this.pending = null;
    await this.current;
    await this.schedules.stop();
  }

  environment(name: string): EnvironmentStatus | undefined {
    return this.status.environments.find((e) => e.name === name);
  }

  private envStatus(name: string): EnvironmentStatus {
    let st = this.environment(name);
    if (!st) {
      st = emptyEnvironment(name);
      this.status.environments.push(st);
      this.status.environments.sort((a, b) => a.name.localeCompare(b.name));
    }
    return st;
  }

  private async drain(): Promise<void> {
    while (this.pending && !this.stopping) {
      const work = this.pending;
      this.pending = null;
      // Polls keep coming during a long rollout, so a newer revision can supersede it.
      this.schedule();
      await this.cycle(work).catch((error: unknown) => this.deps.log.error({ err: error }, 'cycle failed unexpectedly'));
      this.deps.onCycle?.(this.status);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.stopping) return;
    if (this.timer) clearTimeout(this.timer);
    const base = this.deps.intervalMs * Math.min(8, 2 ** this.failures);
    const jitter = base * 0.2 * ((this.deps.random ?? Math.random)() - 0.5);
    this.timer = setTimeout(() => {
      this.polls++;
      const heal = this.polls % (this.deps.healEveryPolls ?? 10) === 0;
      this.trigger(heal ? 'poll + periodic drift check' : 'poll', { heal: heal ? [...this.lastGood.keys()] : [], remote: true });
    }, base + jitter);
    this.timer.unref?.();
  }

  /** During a rollout: one ls-remote; a newer head aborts the rollout at its next safe point. */
  private async peekForNewerRevision(): Promise<void> {
    if (!this.rollout || !this.opened) return;
    const head = await this.peek();
    if (head && head !== this.revision && this.rollout) this.rollout.abort(`superseded by revision ${revisionLabel(head)}`);
  }

  /** One ls-remote at a time however many triggers ask (a burst of webhooks shares it), each one counted. */
  private readonly peek = singleFlight(async () => {
    try {
      const head = await this.deps.repo.remoteHead();
      this.deps.metrics.gitQueries.inc({ result: 'ok' });
      return head;
    } catch {
      this.deps.metrics.gitQueries.inc({ result: 'error' });
      return undefined;
    }
  });

  /** Checks the remote (one ls-remote) and fetches only when it moved; resolves to the local head, or undefined when the remote cannot be reached. */
  private async updateSource(): Promise<string | undefined> {
    const { repo, metrics, log } = this.deps;
    try {
      if (!this.opened) {
        await repo.open();
        await configureSigning(repo.dir, this.deps.trust?.signingKey);
        this.opened = true;
        this.revision = null;
        metrics.gitFetches.inc({ result: 'ok' });
      }
      const head = await repo.remoteHead();
      metrics.gitQueries.inc({ result: 'ok' });
      this.status.remote = { head, checkedAt: this.now().toISOString(), error: null };
      this.failures = 0;
      if (head === this.revision && !this.unpushed) return head;
      const local = this.revision === null || this.unpushed ? await repo.head() : this.revision;
      if (head === local && !this.unpushed) return local;
      const fetched = await repo.fetch();
      this.unpushed = false;
      metrics.gitFetches.inc({ result: 'ok' });
      return fetched;
    } catch (error) {
      this.failures++;
      const message = (error as Error).message;
      metrics.gitQueries.inc({ result: 'error' });
      metrics.error('source');
      this.status.remote = { ...this.status.remote, checkedAt: this.now().toISOString(), error: message };
      log.warn({ err: message, failures: this.failures, transient: isStagecoachError(error) && error.transient }, 'config repo unreachable; serving the last good revisions');
      return undefined;
    }
  }

  private async cycle(work: Work): Promise<void> {
    const check = work.remote || work.full || !this.opened;
    const head = (check ? await this.updateSource() : undefined) ?? this.revision;
    if (!this.opened || !head) return;
    const moved = head !== this.revision;
    this.revision = head;
    if (moved || work.full) {
      await this.reconcileRevision(head, work.reason);
    } else {
      const names = new Set([...work.heal, ...this.retry]);
      for (const name of names) {
        const env = this.lastGood.get(name);
        if (env && !this.stopping) await this.runEnvironment(env, this.envStatus(name).revision.lastGood ?? head, this.retry.has(name) ? 'retry' : work.reason);
      }
    }
    for (const name of work.verify) {
      const env = this.lastGood.get(name);
      if (env && !this.stopping) await this.verify(env, this.envStatus(name).revision.applied ?? head, work.reason);
    }
    if (moved || work.full) this.status.ready = true;
  }

  private async reconcileRevision(revision: string, reason: string): Promise<void> {
    const { validators, only } = this.deps;
    const unsigned = await headRefusal(this.deps.repo.dir, revision, this.deps.trust);
    if (unsigned) return this.refuseRevision(revision, unsigned, await diskRepo(this.deps.repo.dir).listDirs('environments'));
    const everything = await loadRepo(diskRepo(this.deps.repo.dir), validators);
    this.allEnvironments = everything.environments.flatMap((e) => (e.loaded ? [e.loaded] : []));
    const result = only ? { environments: everything.environments.filter((e) => only.includes(e.name)), problems: everything.problems } : everything;
    const names = everything.environments.map((e) => e.name);
    for (const wanted of only ?? []) {
      if (!names.includes(wanted)) {
        const st = this.envStatus(wanted);
        st.state = 'invalid';
        st.errors = capList(result.problems.filter((p) => p.file === `environments/${wanted}`).map(formatProblem));
      }
    }
    for (const load of result.environments) {
      if (this.stopping) return;
      const st = this.envStatus(load.name);
      st.revision.desired = revision;
      const crossProblems = result.problems.filter((p) => p.file.startsWith(`environments/${load.name}/`) || p.file === `environments/${load.name}`);
      const refused = load.loaded && this.deps.policy ? await hostPolicyProblems(this.deps.policy, load.loaded) : [];
      if (!load.loaded || crossProblems.length > 0 || refused.length > 0) {
        const problems = (load.problems.length ? load.problems : crossProblems.length ? crossProblems : refused).map(formatProblem);
        st.state = 'invalid';
        // Capped: 20,000 bad files must not make a megabyte status page or log line.
        st.errors = capList(problems);
        const keeping = st.revision.lastGood ? `keeping revision ${revisionLabel(st.revision.lastGood)}` : 'nothing deployed yet';
        recordDecision(st, { at: this.now().toISOString(), kind: 'invalid', revision, reason: `revision ${revisionLabel(revision)} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}); ${keeping}` });
        this.deps.log.warn({ environment: load.name, revision: revisionLabel(revision), problems: capList(problems, 20) }, 'invalid revision; keeping the last good one');
        this.deps.metrics.setState(load.name, 'invalid');
        this.deps.metrics.error(load.name);
        continue;
      }
      if (await this.blocked(load.loaded, st, revision)) continue;
      this.lastGood.set(load.name, load.loaded);
      st.revision.lastGood = revision;
      await this.runEnvironment(load.loaded, revision, reason);
    }
    this.schedules.update([...this.lastGood.values()]);
    await this.describePromotions(result.environments.map((e) => e.name)).catch((error: unknown) => this.deps.log.warn({ err: (error as Error).message }, 'cannot read markers and proposals'));
  }

  /** A head that is not signed by a trusted key: every managed environment keeps its last good revision. */
  private refuseRevision(revision: string, reason: string, folders: string[]): void {
    this.deps.log.warn({ revision: revisionLabel(revision), reason }, 'revision refused: not signed by a trusted key');
    for (const name of this.deps.only ?? folders) {
      const st = this.envStatus(name);
      st.state = 'invalid';
      st.errors = [reason];
      recordDecision(st, { at: this.now().toISOString(), kind: 'invalid', revision, reason: `${reason}; ${st.revision.lastGood ? `keeping revision ${revisionLabel(st.revision.lastGood)}` : 'nothing deployed yet'}` });
    }
  }

  private async runEnvironment(env: LoadedEnvironment, revision: string, trigger: string): Promise<void> {
    const st = this.envStatus(env.name);
    this.rollout = new AbortController();
    try {
      const outcome = await reconcileEnvironment(env, revision, st, this.failed.get(env.name), { ...this.deps, now: this.now, ready: this.deps.ready, runtime: this.deps.runtimeFor(env.environment) }, {
        signal: this.rollout.signal,
        autoApply: env.environment.sync.auto,
        trigger,
      });
      if (outcome.failed) this.failed.set(env.name, outcome.failed);
      else this.failed.delete(env.name);
      this.retry.delete(env.name);
      if (outcome.converged && !this.stopping) {
        if (outcome.changed) await this.verify(env, revision, `deploy of ${revisionLabel(revision)}`);
        else if (await this.unverified(env)) await this.verify(env, revision, 'no marker for what runs');
      }
    } catch (error) {
      const message = (error as Error).message;
      st.state = 'unreachable';
      st.errors = [message];
      recordDecision(st, { at: this.now().toISOString(), kind: 'error', revision, reason: `${message}; will retry` });
      this.deps.log.warn({ environment: env.name, err: message }, 'cannot reconcile; will retry');
      this.deps.metrics.setState(env.name, 'unreachable');
      this.deps.metrics.error(env.name);
      this.retry.add(env.name);
      this.failures = Math.max(this.failures, 1);
    } finally {
      this.rollout = null;
    }
  }

  private markerIndex(): MarkerIndex {
    this.index ??= new MarkerIndex(this.deps.repo.dir, markerVerifier(this.deps.repo.dir, this.deps.trust));
    return this.index;
  }

  /**
   * What git says about each environment's promotions, so status survives a
   * restart: the latest marker from the index, and proposal branches not yet
   * merged (dropped from status once the environment runs the proposed images).
   */
  private async describePromotions(names: readonly string[]): Promise<void> {
    const index = this.markerIndex();
    await index.refresh();
    if (!this.proposalsRead) {
      this.proposalsRead = true;
      const refs = await gitIn(this.deps.repo.dir).listRemote(['origin', 'refs/heads/stagecoach/promote/*']).catch(() => '');
      for (const line of refs.split('\n').filter(Boolean)) {
        const [commit = '', ref = ''] = line.split('\t');
        const env = ref.replace('refs/heads/stagecoach/promote/', '');
        const st = this.environment(env);
        if (st && st.proposals.length === 0) st.proposals = [{ branch: ref.replace('refs/heads/', ''), commit, images: [], at: '' }];
      }
    }
    for (const name of names) {
      const st = this.envStatus(name);
      const latest = index.latest(name);
      if (latest && (!st.lastMarker || st.lastMarker.commit !== latest.commit)) {
        st.lastMarker = { result: latest.result, revision: latest.revision, at: latest.at, commit: latest.commit, tests: st.lastMarker?.commit === latest.commit ? st.lastMarker.tests : latest.result };
      }
      const running = new Set(st.services.map((s) => `${s.name}=${s.image}`));
      st.proposals = st.proposals.filter((p) => p.images.length === 0 || !p.images.every((i) => running.has(i)));
    }
  }

  /** True when this environment's latest marker does not describe the images it runs (first start, or a marker that never landed). */
  private async unverified(env: LoadedEnvironment): Promise<boolean> {
    const index = this.markerIndex();
    await index.refresh();
    const latest = index.latest(env.name);
    if (!latest) return true;
    const marked = new Map(latest.images.map((i) => [i.service, i.image]));
    return env.services.some((s) => marked.get(s.name) !== s.spec.image) || marked.size !== env.services.length;
  }

  /** The promotion gate: true (and status says why) when an image has no passing marker upstream. */
  private async blocked(env: LoadedEnvironment, st: EnvironmentStatus, revision: string): Promise<boolean> {
    const upstream = env.environment.promotion.from;
    if (!upstream) {
      st.gate = null;
      st.blocked = [];
      return false;
    }
    const index = this.markerIndex();
    await index.refresh();
    const digests = await imageDigests(this.deps.runtimeFor(env.environment), env).catch(() => ({}));
    const reasons = gateReasons(env, index, digests);
    st.gate = { from: upstream, state: reasons.length ? 'blocked' : 'open' };
    if (reasons.length === 0) {
      st.blocked = [];
      return false;
    }
    const changed = reasons.join('\n') !== st.blocked.join('\n');
    st.blocked = reasons;
    st.state = 'blocked';
    this.deps.metrics.setState(env.name, 'blocked');
    if (changed) {
      const keeping = st.revision.applied ? `keeps running revision ${revisionLabel(st.revision.applied)}` : 'nothing deployed yet';
      recordDecision(st, { at: this.now().toISOString(), kind: 'block', revision, reason: `revision ${revisionLabel(revision)} blocked by the gate from ${upstream}; ${keeping}: ${reasons.join('; ')}` });
      this.deps.log.warn({ environment: env.name, revision: revisionLabel(revision), reasons }, 'blocked: unverified images');
    }
    return true;
  }

  /** Tests, marker, push; on a pass, proposals for the environments that promote from this one. */
  private async verify(env: LoadedEnvironment, revision: string, trigger: string): Promise<void> {
    const st = this.envStatus(env.name);
    const { log } = this.deps;
    try {
      const { marker, results, push } = await verifyAndMark({ env, revision, trigger, dir: this.deps.repo.dir, branch: this.deps.branch, runtime: this.deps.runtimeFor(env.environment), secrets: this.deps.secrets, log });
      st.lastMarker = { result: marker.result, revision, at: marker.finishedAt, commit: push.commit, tests: describeResults(results) };
      log.info({ environment: env.name, commit: push.commit, attempts: push.attempts, pushMs: push.durationMs, result: marker.result }, 'marker pushed');
      recordDecision(st, { at: this.now().toISOString(), kind: 'verify', revision, reason: `${describeResults(results)}; marker ${push.commit.slice(0, 7)} pushed (${push.attempts} attempt${push.attempts === 1 ? '' : 's'})${results.filter((r) => r.result !== 'passed').map((r) => `; ${r.name}: ${r.message}`).join('')}` });
      if (marker.result === 'passed') {
        for (const { env: to, result } of await promoteDownstream({ from: env, marker, all: this.allEnvironments, dir: this.deps.repo.dir, branch: this.deps.branch })) {
          const target = this.envStatus(to);
          const images = result.changed.map((c) => `${c.service}=${c.to}`);
          if (result.outcome === 'proposed') target.proposals = [{ branch: result.ref, commit: result.commit ?? '', images, at: this.now().toISOString() }];
          const reason = result.outcome === 'up-to-date' ? `${to} already runs or proposes what ${env.name} verified` : `${result.outcome} ${images.join(', ')} on ${result.ref} (verified in ${env.name} at ${revisionLabel(revision)})`;
          recordDecision(target, { at: this.now().toISOString(), kind: 'promote', revision, reason });
          log.info({ from: env.name, to, outcome: result.outcome, ref: result.ref, images }, 'promotion');
        }
      }
      if (push.attempts === 1) {
        // The push went straight on top of what this daemon had reconciled: nothing new to fetch.
        // The marker changes no desired state: whatever was at the previous head is now at the marker commit.
        const previous = this.revision;
        this.revision = push.commit;
        this.status.remote = { ...this.status.remote, head: push.commit, checkedAt: this.now().toISOString() };
        for (const other of this.status.environments) {
          for (const key of ['desired', 'applied', 'lastGood'] as const) if (other.revision[key] === previous || other.revision[key] === revision) other.revision[key] = push.commit;
        }
        // A new marker can only matter to an environment the gate holds back.
        if (this.status.environments.some((e) => e.state === 'blocked')) this.trigger('marker pushed: re-checking gates', { full: true, remote: false });
      } else {
        // The push was rebased onto commits of others: the next cycle fetches and reconciles them.
        this.trigger('marker pushed after a rebase', { remote: true });
      }
    } catch (error) {
      this.unpushed = true;
      const message = `verification of ${env.name} at ${revisionLabel(revision)} could not complete: ${(error as Error).message}`;
      st.errors = [...st.errors, message];
      recordDecision(st, { at: this.now().toISOString(), kind: 'error', revision, reason: message });
      log.warn({ environment: env.name, err: (error as Error).message }, 'verification failed to complete');
      this.deps.metrics.error(env.name);
    }
  }

  /** A manual sync (API): forgets failed updates so they are tried again. */
  syncNow(reason: string): void {
    this.failed.clear();
    this.trigger(reason, { full: true });
  }
}
