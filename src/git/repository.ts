import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SimpleGit } from 'simple-git';
import { GitError } from '../errors.js';
import type { RepoFiles } from '../manifest/files.js';
import { redactUrl } from '../source/redact.js';
import { gitError, gitIn, runGit } from './git-cli.js';
import { localRepoPath, readLocalBranch } from './local-refs.js';
import type { CommitRequest, GitReader, GitWriter, LogEntry, LogQuery, PushOutcome, PushRequest, SignOption } from './ports.js';
import { treeFiles } from './tree-files.js';

export interface GitRepositoryOptions {
  /** The clone (the daemon's own in its data dir, or a person's checkout). */
  dir: string;
  /** The remote to clone from when `dir` holds no clone yet; undefined = use what is there. */
  url?: string;
  branch: string;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const logFormat = '%H%x1f%aI%x1f%cI%x1f%an%x1f%ae%x1f%s%x1f%(trailers:only,unfold)%x1e';
const rejected = /rejected|non-fast-forward|fetch first|failed to push|cannot lock ref|incorrect old value|stale info/i;

function signArgs(sign: SignOption | undefined): string[] {
  return sign ? ['-c', `gpg.format=${sign.format}`, '-c', `user.signingkey=${sign.key}`] : [];
}

/**
 * The one implementation of the git ports: a clone read through git objects
 * (ls-remote, fetch, ls-tree, cat-file, log) and written through plumbing
 * (a temporary index, commit-tree, push without force). Its working tree is
 * never checked out or reset, so nothing the daemon committed can be lost to it.
 */
export class GitRepository implements GitReader, GitWriter {
  private readonly remoteRef: string;
  /** Fetches and ref updates one at a time: two at once fail with "cannot lock ref". */
  private refs: Promise<unknown> = Promise.resolve();
  constructor(readonly options: GitRepositoryOptions) {
    this.remoteRef = `refs/remotes/origin/${options.branch}`;
  }

  /** simple-git refuses a base dir that does not exist yet, so one is made per use. */
  git(env: Record<string, string> = {}): SimpleGit {
    return gitIn(this.options.dir, this.options.timeoutMs, env);
  }

  get dir(): string {
    return this.options.dir;
  }

  get displayUrl(): string {
    return redactUrl(this.options.url ?? this.options.dir);
  }

  /** Clones when there is no clone yet (or a broken one); otherwise keeps it and points origin at the url. */
  async open(): Promise<void> {
    const { dir, url, branch } = this.options;
    if (!url) throw new GitError(`no remote url for ${dir}`);
    const exists = await access(path.join(dir, '.git')).then(() => true, () => false);
    if (exists && (await this.git().checkIsRepo().catch(() => false))) {
      await this.git().remote(['set-url', 'origin', url]);
      return;
    }
    await rm(dir, { recursive: true, force: true });
    await mkdir(path.dirname(dir), { recursive: true });
    try {
      await gitIn(path.dirname(dir), this.options.timeoutMs).clone(url, dir, ['--branch', branch, '--no-tags', '--no-checkout']);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw gitError('clone', `${url} (branch ${branch})`, error);
    }
    await this.git().addConfig('user.name', 'stagecoach').addConfig('user.email', 'stagecoach@localhost');
  }

  async hasOrigin(): Promise<boolean> {
    return (await this.git().getRemotes()).some((r) => r.name === 'origin');
  }

  /**
   * The commit the branch points at on the remote. A remote that is a local
   * repository is read directly (local-refs.ts), as git would: no git and
   * upload-pack process per poll; git answers when that read cannot.
   */
  async remoteHead(): Promise<string> {
    const ref = `refs/heads/${this.options.branch}`;
    const local = localRepoPath(this.options.url);
    const read = local ? readLocalBranch(local, this.options.branch) : undefined;
    if (read === null) throw gitError('ls-remote', this.displayUrl, new Error(`branch ${this.options.branch} does not exist on the remote`));
    if (read) return read;
    const found = await this.lsRemote(ref);
    const head = found.find((r) => r.ref === ref);
    if (!head) throw gitError('ls-remote', this.displayUrl, new Error(`branch ${this.options.branch} does not exist on the remote`));
    return head.commit;
  }

  async remoteBranches(prefix: string): Promise<{ branch: string; commit: string }[]> {
    const found = await this.lsRemote(`refs/heads/${prefix}*`);
    return found.map((r) => ({ branch: r.ref.replace(/^refs\/heads\//, ''), commit: r.commit }));
  }

  /**
   * One `git ls-remote origin PATTERN`, run directly rather than through
   * simple-git: it is the one git process of every poll of a remote repo, and
   * simple-git's per-call set-up cost about as much CPU as the process itself.
   */
  private async lsRemote(pattern: string): Promise<{ ref: string; commit: string }[]> {
    const out = await runGit(['ls-remote', 'origin', pattern], this.options.dir, this.options.timeoutMs ?? 60_000).catch((error: unknown) => {
      throw gitError('ls-remote', this.displayUrl, error);
    });
    return out.split('\n').filter(Boolean).map((line) => {
      const [commit = '', ref = ''] = line.split('\t');
      return { ref, commit };
    });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.refs.then(fn, fn);
    this.refs = run.catch(() => undefined);
    return run;
  }

  async fetch(): Promise<string> {
    const { branch } = this.options;
    return this.exclusive(async () => {
      try {
        await this.git().fetch('origin', `+refs/heads/${branch}:${this.remoteRef}`, ['--no-tags']);
      } catch (error) {
        throw gitError('fetch', this.displayUrl, error);
      }
      return this.resolve(this.remoteRef);
    });
  }

  /** Fetches another branch into a ref of stagecoach's own; null when it does not exist on the remote. */
  async fetchBranch(branch: string): Promise<string | null> {
    const ref = `refs/stagecoach/fetched/${branch}`;
    const ok = await this.exclusive(() => this.git().fetch('origin', `+refs/heads/${branch}:${ref}`, ['--no-tags']).then(() => true, () => false));
    return ok ? this.resolve(ref) : null;
  }

  async resolve(revision: string): Promise<string> {
    try {
      return (await this.git().revparse(['--verify', '--quiet', `${revision}^{commit}`])).trim();
    } catch (error) {
      throw gitError('rev-parse', `${revision} in ${this.dir}`, error);
    }
  }

  async treeId(revision: string, folder: string): Promise<string | null> {
    const out = await this.git().raw(['ls-tree', '-d', revision, '--', folder]).catch((error: unknown) => Promise.reject(gitError('ls-tree', `${revision} in ${this.dir}`, error)));
    const line = out.split('\n').find((l) => l.endsWith(`\t${folder}`));
    return line ? line.split(/\s+/)[2]! : null;
  }

  async subtrees(revision: string, folder: string): Promise<Record<string, string>> {
    const out = await this.git().raw(['ls-tree', '-d', `${revision}:${folder}`]).catch((error: unknown) => {
      // A revision without the folder has no sub-folders; any other failure is the caller's to handle.
      if (/not a tree object|does not exist|Not a valid object name/i.test(String(error))) return '';
      throw gitError('ls-tree', `${revision} in ${this.dir}`, error);
    });
    const result: Record<string, string> = {};
    for (const line of out.split('\n').filter(Boolean)) {
      const [meta = '', name = ''] = line.split('\t');
      result[name] = meta.split(/\s+/)[2]!;
    }
    return result;
  }

  files(revision: string): RepoFiles {
    return treeFiles(this, revision);
  }

  /** `git ls-tree -r -l`: every blob at a revision with its mode, id and size. */
  async listTree(revision: string): Promise<{ mode: string; id: string; size: number; path: string }[]> {
    const out = await this.git().raw(['ls-tree', '-r', '-l', '-z', revision]).catch((error: unknown) => Promise.reject(gitError('ls-tree', `${revision} in ${this.dir}`, error)));
    return out.split('\0').filter(Boolean).map((entry) => {
      const [meta = '', file = ''] = entry.split('\t');
      const [mode = '', , id = '', size = '0'] = meta.split(/\s+/);
      return { mode, id, size: Number(size), path: file };
    });
  }

  async readBlob(id: string): Promise<string> {
    return this.git().raw(['cat-file', 'blob', id]).catch((error: unknown) => Promise.reject(gitError('cat-file', `${id} in ${this.dir}`, error)));
  }

  /** A blob byte for byte (`raw` decodes as UTF-8, which would mangle a binary file copied into a container). */
  async readBlobBytes(id: string): Promise<Buffer> {
    return this.git().binaryCatFile(['blob', id]).catch((error: unknown) => Promise.reject(gitError('cat-file', `${id} in ${this.dir}`, error)));
  }

  async log(query: LogQuery): Promise<LogEntry[]> {
    const range = query.since ? `${query.since}..${query.revision}` : query.revision;
    const args = ['log', `--format=${logFormat}`, ...(query.limit ? [`-n${query.limit}`] : []), ...(query.reverse ? ['--reverse'] : []), range, '--', ...query.paths];
    const out = await this.git().raw(args).catch((error: unknown) => Promise.reject(gitError('log', `${range} in ${this.dir}`, error)));
    return out.split('\x1e').map((r) => r.replace(/^\n/, '')).filter(Boolean).map((record) => {
      const [commit = '', authorDate = '', committerDate = '', author = '', email = '', subject = '', trailers = ''] = record.split('\x1f');
      return { commit, authorDate, committerDate, author, email, subject, trailers };
    });
  }

  /** Not `merge-base --is-ancestor`: simple-git resolves on its silent exit 1, so a rewrite would go unnoticed. */
  async isAncestor(ancestor: string, revision: string): Promise<boolean> {
    const base = await this.git().raw(['merge-base', ancestor, revision]).catch(() => '');
    return base.trim() === ancestor;
  }

  async commitFiles(request: CommitRequest): Promise<string | null> {
    const scratch = await mkdtemp(path.join(tmpdir(), 'stagecoach-index-'));
    try {
      const git = this.git({ GIT_INDEX_FILE: path.join(scratch, 'index') });
      await git.raw(['read-tree', request.base]);
      for (const [file, text] of Object.entries(request.changes)) {
        if (text === null) {
          await git.raw(['rm', '--cached', '-r', '-q', '--ignore-unmatch', '--', file]);
          continue;
        }
        const blob = (await this.hashObject(path.join(scratch, 'blob'), text)).trim();
        await git.raw(['update-index', '--add', '--cacheinfo', `100644,${blob},${file}`]);
      }
      const tree = (await git.raw(['write-tree'])).trim();
      const baseTree = (await git.raw(['rev-parse', `${request.base}^{tree}`])).trim();
      if (tree === baseTree) return null;
      const args = [...signArgs(request.sign), 'commit-tree', tree, '-p', request.base, ...(request.sign ? ['-S'] : []), '-m', request.message];
      return (await git.raw(args)).trim();
    } catch (error) {
      throw error instanceof GitError ? error : gitError('commit', `on ${request.base.slice(0, 7)} in ${this.dir}`, error);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  private async hashObject(file: string, text: string): Promise<string> {
    await writeFile(file, text);
    return this.git().raw(['hash-object', '-w', file]);
  }

  async push(request: PushRequest): Promise<PushOutcome> {
    const started = Date.now();
    const max = request.maxAttempts ?? 12;
    const sleep = this.options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
    const random = this.options.random ?? Math.random;
    let last: unknown;
    for (let attempt = 1; attempt <= max; attempt++) {
      // The first attempt builds on the head this clone last fetched; later ones on what the remote moved to.
      const base = attempt === 1 ? await this.resolve(this.remoteRef) : await this.fetch();
      const changes = await request.changes(base);
      const commit = changes ? await this.commitFiles({ base, changes, message: request.message, sign: request.sign }) : null;
      // Nothing left to change on this head (or our earlier push landed though its answer was lost): nothing is duplicated.
      if (!commit) return { commit: base, attempts: attempt, durationMs: Date.now() - started, changed: false };
      try {
        // git updates the remote-tracking ref on push too: one ref writer at a time.
        await this.exclusive(async () => {
          await this.git().push('origin', `${commit}:refs/heads/${request.branch}`);
          await this.git().raw(['update-ref', this.remoteRef, commit]);
        });
        return { commit, attempts: attempt, durationMs: Date.now() - started, changed: true };
      } catch (error) {
        last = error;
        if (!rejected.test(error instanceof Error ? error.message : String(error))) throw gitError('push', `${this.displayUrl} ${request.branch}`, error);
      }
      if (attempt < max) await sleep(100 * 2 ** Math.min(attempt - 1, 6) * (0.5 + random()));
    }
    throw new GitError(`git push to ${this.displayUrl} ${request.branch} still rejected after ${max} attempts (others keep pushing)`, { cause: last, transient: true });
  }

  async updateBranch(branch: string, commit: string, expected: string | null): Promise<void> {
    try {
      await this.git().push(['origin', `${commit}:refs/heads/${branch}`, `--force-with-lease=refs/heads/${branch}:${expected ?? ''}`]);
    } catch (error) {
      throw gitError('push', `${this.displayUrl} ${branch}`, error);
    }
  }
}
