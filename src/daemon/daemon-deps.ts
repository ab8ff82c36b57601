import type { Logger } from 'pino';
import type { ImageAutomation } from '../images/automation.js';
import type { GitReader, GitWriter, SignOption } from '../git/ports.js';
import type { OperatorPolicy } from '../policy/types.js';
import type { TrustHooks } from '../promotion/trust.js';
import type { SchemaValidators } from '../manifest/schemas.js';
import type { EnvironmentManifest, LoadedEnvironment } from '../manifest/types.js';
import type { MarkerService } from '../promotion/marker.js';
import type { SecretSource } from '../reconcile/secrets.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { Clock } from './clock.js';
import type { DeployStepFor } from './deploy-step.js';
import type { Metrics } from './metrics.js';
import type { Schedules } from './schedules.js';
import type { DaemonStatus } from './status.js';

/** Everything the daemon is built from: the composition root (`stagecoach run`) passes real parts, tests pass fakes. */
export interface DaemonDeps {
  git: GitReader & GitWriter & { open?(): Promise<void> };
  branch: string;
  /** Environments to manage; undefined = every folder under environments/. */
  only: string[] | undefined;
  intervalMs: number;
  /** Full drift check every this many polls (besides Docker events and cron). */
  healEveryPolls?: number;
  validators: SchemaValidators;
  /** The deploy step of an environment (containers; another target plugs in here). */
  deployFor: DeployStepFor;
  /** The engine an environment's tests and image facts are read from. */
  runtimeFor: (env: EnvironmentManifest) => ContainerRuntime;
  /** What a marker records for a target that reads its images itself (Swarm: the digests its tasks run); undefined: the engine's images. */
  markerFacts?: (env: LoadedEnvironment) => Promise<Record<string, MarkerService>> | undefined;
  secrets: SecretSource;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
  random?: () => number;
  retryBaseMs?: number;
  /** The operator's policy; an environment it refuses is invalid (nothing is sent to its engine). */
  policy?: OperatorPolicy;
  /** Which markers count (signed by the operator's keys) and whether the head may deploy (trust.requireSignedHead). */
  trust?: TrustHooks;
  /** Sign the daemon's own commits (markers, proposals). */
  sign?: SignOption;
  /** Cron schedules (sync.schedule, verify.schedule); replaced in tests. */
  schedules?: (fire: (env: string, kind: 'sync' | 'verify') => void) => Pick<Schedules, 'update' | 'stop'>;
  /** Told after every cycle (the CLI prints "all environments in sync" from it). */
  onCycle?: (status: DaemonStatus) => void;
  /**
   * Called after a cycle that changed containers: the CLI runs one full
   * garbage collection there (when node runs with --expose-gc, as `npm start`
   * does), so a deploy's garbage leaves the heap at once instead of whenever
   * allocation pressure next comes, which for an idle daemon can be hours.
   */
  afterChanges?: () => void;
  /** Image automation: asked after every cycle that looked at the remote; a committed image update starts a cycle that deploys it. */
  images?: ImageAutomation;
}
