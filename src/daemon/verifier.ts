import type { Logger } from 'pino';
import type { GitReader, GitWriter, SignOption } from '../git/ports.js';
import type { LoadedEnvironment } from '../manifest/types.js';
import type { MarkerService } from '../promotion/marker.js';
import type { SecretSource } from '../reconcile/secrets.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { Clock } from './clock.js';
import * as step from './environment-cycle.js';
import type { Metrics } from './metrics.js';
import type { PendingMarker } from './promotion-steps.js';
import { promoteDownstream, pushMarker, verifyEnvironment } from './promotion-steps.js';
import type { EnvironmentPatch } from './status-store.js';
import type { EnvironmentStatus } from './status.js';

export interface VerifierDeps {
  git: GitReader & GitWriter;
  branch: string;
  runtimeFor(env: LoadedEnvironment): ContainerRuntime;
  secrets: SecretSource;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
  sign?: SignOption;
  /** Status as stored now (read only). */
  status(name: string): EnvironmentStatus | undefined;
  /** Every valid environment (promotion targets). */
  all(): LoadedEnvironment[];
  /** The images and digests a marker records, when the target reads them itself (Swarm tasks); undefined: from the engine. */
  markerFacts?(env: LoadedEnvironment): Promise<Record<string, MarkerService>> | undefined;
}

/** Status changes for the daemon to store, by environment, in order. */
export type Patches = [string, EnvironmentPatch][];

/**
 * Verification, markers and promotion. A marker joins an outbox and is
 * pushed (in order) as soon as the remote takes it; one whose push fails stays
 * for the next cycle: it is never dropped.
 */
export class Verifier {
  private readonly outbox: PendingMarker[] = [];

  constructor(private readonly deps: VerifierDeps) {}

  get pending(): number {
    return this.outbox.length;
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  /** Tests and a marker for what runs; then pushes the outbox. */
  async verify(env: LoadedEnvironment, revision: string, trigger: string): Promise<{ patches: Patches; pushed: string[] }> {
    const { log, secrets, clock } = this.deps;
    try {
      this.outbox.push(await verifyEnvironment({ env, revision, trigger, runtime: this.deps.runtimeFor(env), secrets, log, clock, facts: () => this.deps.markerFacts?.(env) }));
    } catch (error) {
      log.warn({ environment: env.name, err: (error as Error).message }, 'verification failed to complete');
      this.deps.metrics.error(env.name);
      return { patches: [[env.name, step.verifyFailedPatch(env.name, revision, error, this.deps.status(env.name), this.now())]], pushed: [] };
    }
    return this.flush();
  }

  /** Pushes pending markers in order; the first that fails stays (with those after it) for the next cycle. Resolves to the commits pushed. */
  async flush(): Promise<{ patches: Patches; pushed: string[] }> {
    const { git, branch, log, sign } = this.deps;
    const patches: Patches = [];
    const pushed: string[] = [];
    while (this.outbox.length > 0) {
      const pending = this.outbox[0]!;
      let push;
      try {
        push = await pushMarker(git, branch, pending, sign);
      } catch (error) {
        patches.push([pending.env.name, step.unpushedPatch(pending, error, this.now())]);
        log.warn({ environment: pending.env.name, err: (error as Error).message, pending: this.outbox.length }, 'marker not pushed; kept for the next cycle');
        this.deps.metrics.error(pending.env.name);
        break;
      }
      this.outbox.shift();
      pushed.push(push.commit);
      log.info({ environment: pending.env.name, commit: push.commit, attempts: push.attempts, pushMs: push.durationMs, result: pending.marker.result }, 'marker pushed');
      patches.push([pending.env.name, step.markerPatch(pending, push, this.now())]);
      if (pending.marker.result === 'passed') patches.push(...(await this.promote(pending)));
    }
    return { patches, pushed };
  }

  private async promote(pending: PendingMarker): Promise<Patches> {
    const from = pending.env.name;
    try {
      const results = await promoteDownstream({ git: this.deps.git, from: pending.env, marker: pending.marker, all: this.deps.all(), branch: this.deps.branch, sign: this.deps.sign });
      return results.map(({ env: to, result }) => {
        this.deps.log.info({ from, to, outcome: result.outcome, ref: result.ref }, 'promotion');
        return [to, step.proposalPatch(from, to, pending.revision, result, this.now())];
      });
    } catch (error) {
      this.deps.log.warn({ environment: from, err: (error as Error).message }, 'promotion failed');
      return [[from, step.verifyFailedPatch(from, pending.revision, error, this.deps.status(from), this.now())]];
    }
  }
}
