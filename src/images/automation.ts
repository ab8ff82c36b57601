import type { Logger } from 'pino';
import { formatProblem } from '../manifest/problem.js';
import type { LoadedEnvironment } from '../manifest/types.js';
import type { BumpResult } from './bump-commit.js';
import type { ImageBump } from './bump-message.js';
import { checkImage } from './check.js';
import type { ImageCheck, RegistryReader } from './check.js';
import { watchedServices } from './watched.js';
import type { WatchedService } from './watched.js';
import { compareText } from '../text-order.js';

/** What status, API and page show per watched service. */
export interface ImageStatus {
  environment: string;
  service: string;
  registry: string;
  policy: string;
  /** The image the followed branch names. */
  current: string;
  newestAllowed: string | null;
  lastCheck: string | null;
  lastError: string | null;
  /** The last update this daemon committed (or found already committed). */
  lastUpdate: { to: string; commit: string | null; at: string } | null;
}

/** Commits the bumps of one environment (commitImageBumps in the daemon; a fake in tests). */
export type BumpCommitter = (environment: string, bumps: ImageBump[]) => Promise<BumpResult>;

export interface ImageAutomationDeps {
  registry: RegistryReader;
  commit: BumpCommitter;
  log: Logger;
  now: () => Date;
  /** How often each registry is asked; default every call of poll(). */
  intervalMsFor?: (registry: string) => number;
}

/**
 * Image automation: on each poll, asks every due registry what the policies
 * of the watched services allow, and commits the moves, one commit per
 * environment. It owns its status (one writer) and hands out copies.
 * Failures (registry, policy, git) are recorded per service and logged;
 * nothing is committed for a service whose check failed.
 */
export class ImageAutomation {
  private readonly statuses = new Map<string, ImageStatus>();
  private readonly lastAsked = new Map<string, number>();

  constructor(private readonly deps: ImageAutomationDeps) {}

  /** Checks the due registries; resolves to the number of commits pushed (the caller then fetches and deploys). Never throws. */
  async poll(envs: readonly LoadedEnvironment[]): Promise<number> {
    try {
      return await this.pollOnce(envs);
    } catch (error) {
      this.deps.log.warn({ err: (error as Error).message }, 'image automation failed');
      return 0;
    }
  }

  private async pollOnce(envs: readonly LoadedEnvironment[]): Promise<number> {
    const watched = watchedServices(envs);
    this.forgetUnwatched(watched);
    const now = this.deps.now().getTime();
    const due = watched.filter((w) => {
      const last = this.lastAsked.get(w.registry);
      return last === undefined || now - last >= (this.deps.intervalMsFor?.(w.registry) ?? 0);
    });
    for (const registry of new Set(due.map((w) => w.registry))) this.lastAsked.set(registry, now);
    const reader = memoized(this.deps.registry);
    const bumps = new Map<string, { bump: ImageBump; check: ImageCheck }[]>();
    for (const w of due) {
      const check = await checkImage(w.service, w.image, w.policy, reader);
      this.record(w, check);
      // A registry that asked us to wait (429 + Retry-After) is not asked again before then.
      if (check.error?.retryAfterMs !== undefined) this.lastAsked.set(w.registry, now + check.error.retryAfterMs - (this.deps.intervalMsFor?.(w.registry) ?? 0));
      if (!check.next) continue;
      const list = bumps.get(w.environment) ?? [];
      list.push({ bump: { service: w.service, from: w.image, to: check.next, policy: check.policy }, check });
      bumps.set(w.environment, list);
    }
    let commits = 0;
    for (const [environment, list] of bumps) commits += await this.commit(environment, list.map((l) => l.bump));
    return commits;
  }

  snapshot(): ImageStatus[] {
    return [...this.statuses.values()].map((s) => ({ ...s, lastUpdate: s.lastUpdate ? { ...s.lastUpdate } : null })).sort((a, b) => compareText(a.environment, b.environment) || compareText(a.service, b.service));
  }

  private async commit(environment: string, bumps: ImageBump[]): Promise<number> {
    const at = this.deps.now().toISOString();
    try {
      const result = await this.deps.commit(environment, bumps);
      for (const a of result.applied) {
        this.update(environment, a.service, { lastUpdate: { to: a.to, commit: result.commit ?? null, at }, lastError: null });
        this.deps.log.info({ environment, service: a.service, from: a.from, to: a.to, policy: a.policy, commit: result.commit }, 'image update committed');
      }
      for (const s of result.skipped) {
        this.update(environment, s.service, { lastError: `not committed: ${s.reason}` });
        this.deps.log.warn({ environment, service: s.service, reason: s.reason }, 'image update skipped');
      }
      if (result.outcome === 'invalid') {
        const problems = result.problems.map(formatProblem);
        for (const b of bumps) this.update(environment, b.service, { lastError: `not committed: ${environment} would be invalid: ${problems.join('; ')}` });
        this.deps.log.warn({ environment, problems }, 'image update would make the environment invalid');
      }
      return result.outcome === 'committed' ? 1 : 0;
    } catch (error) {
      const message = (error as Error).message;
      for (const b of bumps) this.update(environment, b.service, { lastError: `commit failed: ${message}` });
      this.deps.log.warn({ environment, err: message }, 'image update commit failed');
      return 0;
    }
  }

  private record(w: WatchedService, check: ImageCheck): void {
    const key = `${w.environment}/${w.service}`;
    const before = this.statuses.get(key);
    this.statuses.set(key, {
      environment: w.environment,
      service: w.service,
      registry: w.registry,
      policy: check.policy,
      current: w.image,
      newestAllowed: check.newestAllowed ?? before?.newestAllowed ?? null,
      lastCheck: this.deps.now().toISOString(),
      lastError: check.error?.message ?? null,
      lastUpdate: before?.lastUpdate ?? null,
    });
    if (check.error && check.error.message !== before?.lastError) {
      this.deps.log.warn({ environment: w.environment, service: w.service, err: check.error.message, transient: check.error.transient }, 'image check failed');
    }
  }

  private update(environment: string, service: string, patch: Partial<ImageStatus>): void {
    const key = `${environment}/${service}`;
    const st = this.statuses.get(key);
    if (st) this.statuses.set(key, { ...st, ...patch });
  }

  private forgetUnwatched(watched: readonly WatchedService[]): void {
    const keys = new Set(watched.map((w) => `${w.environment}/${w.service}`));
    for (const key of this.statuses.keys()) if (!keys.has(key)) this.statuses.delete(key);
    for (const w of watched) {
      const st = this.statuses.get(`${w.environment}/${w.service}`);
      if (st) this.statuses.set(`${w.environment}/${w.service}`, { ...st, current: w.image });
    }
  }
}

/** One poll asks each registry once per repository and tag, however many services share them. */
function memoized(reader: RegistryReader): RegistryReader {
  const tags = new Map<string, Promise<string[]>>();
  const digests = new Map<string, Promise<string>>();
  return {
    listTags: (image) => tags.get(image) ?? (tags.set(image, reader.listTags(image)), tags.get(image)!),
    manifestDigest: (image) => digests.get(image) ?? (digests.set(image, reader.manifestDigest(image)), digests.get(image)!),
  };
}
