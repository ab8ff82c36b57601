import { access, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { SimpleGit } from 'simple-git';
import { gitError, gitIn } from './git.js';
import { redactUrl } from './redact.js';

export interface ConfigRepoOptions {
  /** URL (https://, ssh://, git://, file://) or local path of the remote. */
  url: string;
  branch: string;
  /** The daemon's own clone; never the user's checkout. */
  dir: string;
  timeoutMs?: number;
}

/** Counts what the source asked git for: the cheap "did it move?" query and the fetch. */
export interface GitCounters {
  remoteQueries: number;
  fetches: number;
}

/**
 * The config repo as the daemon sees it: a clone in its data dir, asked
 * "did the branch move?" with one ls-remote per cycle, fetched only when it
 * did, and checked out at the fetched revision.
 */
export class ConfigRepo {
  readonly counters: GitCounters = { remoteQueries: 0, fetches: 0 };
  constructor(readonly options: ConfigRepoOptions) {}

  /** simple-git refuses a base dir that does not exist yet, so one is made per use. */
  private get git(): SimpleGit {
    return gitIn(this.options.dir, this.options.timeoutMs);
  }

  get dir(): string {
    return this.options.dir;
  }

  get displayUrl(): string {
    return redactUrl(this.options.url);
  }

  /** Clones when there is no clone yet (or a broken one); otherwise keeps it. */
  async open(): Promise<void> {
    const { dir, url, branch } = this.options;
    const exists = await access(path.join(dir, '.git')).then(() => true, () => false);
    if (exists && (await this.git.checkIsRepo().catch(() => false))) {
      await this.git.remote(['set-url', 'origin', url]).catch(() => undefined);
      return;
    }
    await rm(dir, { recursive: true, force: true });
    await mkdir(path.dirname(dir), { recursive: true });
    try {
      await gitIn(path.dirname(dir), this.options.timeoutMs).clone(url, dir, ['--branch', branch, '--no-tags']);
      this.counters.fetches++;
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw gitError('clone', `${url} (branch ${branch})`, error);
    }
    await this.git.addConfig('user.name', 'stagecoach').addConfig('user.email', 'stagecoach@localhost');
  }

  /** The commit the remote branch points at: one ls-remote. */
  async remoteHead(): Promise<string> {
    this.counters.remoteQueries++;
    const ref = `refs/heads/${this.options.branch}`;
    let out: string;
    try {
      out = await this.git.listRemote(['origin', ref]);
    } catch (error) {
      throw gitError('ls-remote', this.options.url, error);
    }
    const line = out.split('\n').find((l) => l.endsWith(`\t${ref}`));
    if (!line) throw gitError('ls-remote', this.options.url, new Error(`branch ${this.options.branch} does not exist on the remote`));
    return line.split('\t')[0]!;
  }

  /**
   * Fetches the branch and checks it out; returns the new head. Commits of the
   * daemon's own that did not reach the remote yet (a marker whose push failed)
   * are rebased onto it and pushed, never dropped.
   */
  async fetch(): Promise<string> {
    const { branch } = this.options;
    const remote = `refs/remotes/origin/${branch}`;
    this.counters.fetches++;
    try {
      await this.git.fetch('origin', `+refs/heads/${branch}:${remote}`, ['--no-tags']);
    } catch (error) {
      throw gitError('fetch', this.options.url, error);
    }
    const ahead = Number((await this.git.raw(['rev-list', '--count', `${remote}..HEAD`]).catch(() => '0')).trim());
    try {
      if (ahead > 0) {
        await this.git.rebase([remote]).catch(async (error: unknown) => {
          await this.git.rebase(['--abort']).catch(() => undefined);
          throw error;
        });
        await this.git.push('origin', `HEAD:refs/heads/${branch}`);
      } else {
        await this.git.raw(['checkout', '-q', '-B', branch, remote]);
        await this.git.raw(['reset', '-q', '--hard', remote]);
      }
    } catch (error) {
      throw gitError(ahead > 0 ? 'push of unpushed markers to' : 'checkout of', this.options.url, error);
    }
    return this.head();
  }

  async head(): Promise<string> {
    return (await this.git.revparse(['HEAD'])).trim();
  }
}
