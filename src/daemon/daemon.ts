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
import type { DaemonStatus, EnvironmentStatus } from './status.js';
import { emptyEnvironment, recordDecision } from './status.js';

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
  log: Logger;
  metrics: Metrics;
  now?: () => Date;
  random?: () => number;
  ready?: Partial<ReadyOptions>;
  /** Told after every cycle (the CLI prints "all environments in sync" from it). */
  onCycle?: (status: DaemonStatus) => void;
}

/** full: reload every environment; remote: ask the remote first; heal: environments to drift-check at their revision. */
type Work = { reason: string; full: boolean; remote: boolean; heal: Set<string> };

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
  private readonly schedules = new Schedules((env) => this.trigger('schedule (sync.schedule)', { heal: [env], remote: false }));

  constructor(private readonly deps: DaemonDeps) {
    this.now = deps.now ?? (() => new Date());
    this.status = { ready: false, repo: deps.repo.displayUrl, branch: deps.branch, remote: { head: null, checkedAt: null, error: null }, environments: [] };
  }

  start(): void {
    this.trigger('start', { full: true });
  }

  /** Asks for a cycle; while one runs, requests coalesce into the next. */
  trigger(reason: string, options: { full?: boolean; heal?: string[]; remote?: boolean } = {}): void {
    if (this.stopping) return;
    const heal = (options.heal ?? []).filter((env) => this.lastGood.has(env));
    const remote = options.remote ?? true;
    // Drift of an environment this daemon does not manage is none of its business.
    if (!remote && !options.full && heal.length === 0) return;
    this.deps.log.debug({ reason, full: options.full, remote, heal }, 'trigger');
    const work: Work = this.pending ?? { reason, full: false, remote: false, heal: new Set() };
    work.full ||= options.full ?? false;
    work.remote ||= remote;
    for (const env of heal) work.heal.add(env);
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
    const head = await this.deps.repo.remoteHead().catch(() => undefined);
    if (head && head !== this.revision && this.rollout) this.rollout.abort(`superseded by revision ${revisionLabel(head)}`);
  }

  /** Checks the remote (one ls-remote) and fetches only when it moved; resolves to the local head, or undefined when the remote cannot be reached. */
  private async updateSource(): Promise<string | undefined> {
    const { repo, metrics, log } = this.deps;
    try {
      if (!this.opened) {
        await repo.open();
        this.opened = true;
        this.revision = null;
        metrics.gitFetches.inc({ result: 'ok' });
      }
      const head = await repo.remoteHead();
      metrics.gitQueries.inc({ result: 'ok' });
      this.status.remote = { head, checkedAt: this.now().toISOString(), error: null };
      this.failures = 0;
      if (head === this.revision) return head;
      const local = this.revision === null ? await repo.head() : this.revision;
      if (head === local) return local;
      const fetched = await repo.fetch();
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
    if (moved || work.full) this.status.ready = true;
  }

  private async reconcileRevision(revision: string, reason: string): Promise<void> {
    const { validators, only } = this.deps;
    const result = await loadRepo(diskRepo(this.deps.repo.dir), validators, only);
    const names = result.environments.map((e) => e.name);
    for (const wanted of only ?? []) {
      if (!names.includes(wanted)) {
        const st = this.envStatus(wanted);
        st.state = 'invalid';
        st.errors = result.problems.filter((p) => p.file === `environments/${wanted}`).map(formatProblem);
      }
    }
    for (const load of result.environments) {
      if (this.stopping) return;
      const st = this.envStatus(load.name);
      st.revision.desired = revision;
      const crossProblems = result.problems.filter((p) => p.file.startsWith(`environments/${load.name}/`) || p.file === `environments/${load.name}`);
      if (!load.loaded || crossProblems.length > 0) {
        const problems = (load.problems.length ? load.problems : crossProblems).map(formatProblem);
        st.state = 'invalid';
        st.errors = problems;
        const keeping = st.revision.lastGood ? `keeping revision ${revisionLabel(st.revision.lastGood)}` : 'nothing deployed yet';
        recordDecision(st, { at: this.now().toISOString(), kind: 'invalid', revision, reason: `revision ${revisionLabel(revision)} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}); ${keeping}` });
        this.deps.log.warn({ environment: load.name, revision: revisionLabel(revision), problems }, 'invalid revision; keeping the last good one');
        this.deps.metrics.setState(load.name, 'invalid');
        this.deps.metrics.error(load.name);
        continue;
      }
      this.lastGood.set(load.name, load.loaded);
      st.revision.lastGood = revision;
      await this.runEnvironment(load.loaded, revision, reason);
    }
    this.schedules.update([...this.lastGood.values()]);
  }

  private async runEnvironment(env: LoadedEnvironment, revision: string, trigger: string): Promise<void> {
    const st = this.envStatus(env.name);
    this.rollout = new AbortController();
    try {
      const failed = await reconcileEnvironment(env, revision, st, this.failed.get(env.name), { ...this.deps, now: this.now, ready: this.deps.ready, runtime: this.deps.runtimeFor(env.environment) }, {
        signal: this.rollout.signal,
        autoApply: env.environment.sync.auto,
        trigger,
      });
      if (failed) this.failed.set(env.name, failed);
      else this.failed.delete(env.name);
      this.retry.delete(env.name);
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

  /** A manual sync (API): forgets failed updates so they are tried again. */
  syncNow(reason: string): void {
    this.failed.clear();
    this.trigger(reason, { full: true });
  }
}
