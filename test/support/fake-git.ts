import { createHash } from 'node:crypto';
import { GitError } from '../../src/errors.js';
import type { CommitRequest, GitReader, GitWriter, LogEntry, LogQuery, PushOutcome, PushRequest } from '../../src/git/ports.js';
import { memoryRepo } from '../../src/manifest/files.js';
import type { RepoFiles } from '../../src/manifest/files.js';

interface FakeCommit {
  parent: string | null;
  files: Record<string, string>;
  message: string;
  at: string;
}

const sha = (text: string) => createHash('sha1').update(text).digest('hex');

/**
 * An in-memory config repo and its remote, behind the same ports as
 * GitRepository: commits are maps of path → text, tree ids hash a folder's
 * contents. `down` makes the remote unreachable; `rejectPushes` has others
 * win the next pushes; `failPushes` makes pushes fail outright. `calls`
 * records every operation.
 */
export class FakeGit implements GitReader, GitWriter {
  readonly displayUrl = 'fake://config.git';
  readonly commits = new Map<string, FakeCommit>();
  /** Branches on the remote. */
  readonly branches = new Map<string, string>();
  readonly calls: string[] = [];
  down = false;
  rejectPushes = 0;
  failPushes = false;
  private fetched: string | null = null;
  private next = 0;
  private readonly holds: { op: string; until: Promise<void> }[] = [];

  constructor(files: Record<string, string>, readonly branch = 'main') {
    this.branches.set(branch, this.make(null, files, 'Initial config'));
  }

  /** A person pushes a commit to the followed branch (text sets a file, null deletes it); returns it. */
  land(changes: Record<string, string | null>, message = 'change'): string {
    const head = this.branches.get(this.branch)!;
    const commit = this.make(head, apply(this.commits.get(head)!.files, changes), message);
    this.branches.set(this.branch, commit);
    return commit;
  }

  head(branch = this.branch): string {
    return this.branches.get(branch)!;
  }

  filesAt(revision: string): Record<string, string> {
    return this.commit(revision).files;
  }

  /** Subjects on the remote branch, newest first. */
  subjects(branch = this.branch): string[] {
    const out: string[] = [];
    for (let c: string | null = this.head(branch); c; c = this.commits.get(c)!.parent) out.push(this.commits.get(c)!.message.split('\n')[0]!);
    return out;
  }

  /** The next call of op (after those already held) waits until the returned function is called: a slow remote, to catch work in flight. */
  hold(op: string): () => void {
    let release!: () => void;
    this.holds.push({ op, until: new Promise<void>((resolve) => (release = resolve)) });
    return release;
  }

  count(op: string): number {
    return this.calls.filter((c) => c === op).length;
  }

  private make(parent: string | null, files: Record<string, string>, message: string): string {
    const id = sha(`${this.next++}\n${message}`);
    this.commits.set(id, { parent, files, message, at: new Date(Date.UTC(2026, 0, 1, 0, 0, this.next)).toISOString() });
    return id;
  }

  private commit(revision: string): FakeCommit {
    const c = this.commits.get(revision);
    if (!c) throw new GitError(`unknown revision ${revision}`);
    return c;
  }

  private reach(op: string): void {
    this.calls.push(op);
    if (this.down) throw new GitError(`git ${op} fake://config.git failed: Connection refused`, { transient: true });
  }

  async remoteHead(): Promise<string> {
    this.reach('ls-remote');
    const held = this.holds.findIndex((h) => h.op === 'ls-remote');
    if (held >= 0) await this.holds.splice(held, 1)[0]!.until;
    return this.head();
  }

  async remoteBranches(prefix: string): Promise<{ branch: string; commit: string }[]> {
    this.reach('ls-remote');
    return [...this.branches].filter(([b]) => b.startsWith(prefix)).map(([branch, commit]) => ({ branch, commit }));
  }

  async fetch(): Promise<string> {
    this.reach('fetch');
    this.fetched = this.head();
    return this.fetched;
  }

  async fetchBranch(branch: string): Promise<string | null> {
    this.reach('fetch');
    return this.branches.get(branch) ?? null;
  }

  async treeId(revision: string, folder: string): Promise<string | null> {
    const entries = Object.entries(this.commit(revision).files).filter(([p]) => p.startsWith(`${folder}/`)).sort(([a], [b]) => a.localeCompare(b));
    return entries.length ? sha(JSON.stringify(entries)) : null;
  }

  async subtrees(revision: string, folder: string): Promise<Record<string, string>> {
    const held = this.holds.findIndex((h) => h.op === 'subtrees');
    if (held >= 0) await this.holds.splice(held, 1)[0]!.until;
    const names = new Set(Object.keys(this.commit(revision).files).filter((p) => p.startsWith(`${folder}/`)).map((p) => p.slice(folder.length + 1).split('/')[0]!));
    const out: Record<string, string> = {};
    for (const name of [...names].filter((n) => Object.keys(this.commit(revision).files).some((p) => p.startsWith(`${folder}/${n}/`)))) out[name] = (await this.treeId(revision, `${folder}/${name}`))!;
    return out;
  }

  files(revision: string): RepoFiles {
    this.calls.push('files');
    return memoryRepo(this.commit(revision).files);
  }

  async log(query: LogQuery): Promise<LogEntry[]> {
    const out: LogEntry[] = [];
    for (let c: string | null = query.revision; c && c !== query.since; c = this.commits.get(c)!.parent) {
      const commit = this.commit(c);
      const before = commit.parent ? this.commit(commit.parent).files : {};
      const touched = [...new Set([...Object.keys(before), ...Object.keys(commit.files)])].filter((p) => before[p] !== commit.files[p]);
      if (!touched.some((p) => query.paths.some((q) => p === q || p.startsWith(q.endsWith('/') ? q : `${q}/`)))) continue;
      const paragraphs = commit.message.trim().split('\n\n');
      const last = paragraphs.at(-1)!;
      const trailers = paragraphs.length > 1 && last.split('\n').every((l) => /^[\w-]+: /.test(l)) ? last : '';
      out.push({ commit: c, authorDate: commit.at, committerDate: commit.at, author: 'stagecoach', email: 'stagecoach@localhost', subject: commit.message.split('\n')[0]!, trailers });
    }
    if (query.reverse) out.reverse();
    return query.limit ? out.slice(0, query.limit) : out;
  }

  async isAncestor(ancestor: string, revision: string): Promise<boolean> {
    for (let c: string | null = revision; c; c = this.commits.get(c)!.parent) if (c === ancestor) return true;
    return false;
  }

  async commitFiles(request: CommitRequest): Promise<string | null> {
    const base = this.commit(request.base).files;
    const files = apply(base, request.changes);
    if (JSON.stringify(Object.entries(files).sort()) === JSON.stringify(Object.entries(base).sort())) return null;
    return this.make(request.base, files, request.message);
  }

  async push(request: PushRequest): Promise<PushOutcome> {
    for (let attempt = 1; attempt <= (request.maxAttempts ?? 12); attempt++) {
      this.reach('push');
      if (this.failPushes) throw new GitError('git push fake://config.git failed: Connection reset', { transient: true });
      const base = attempt === 1 && this.fetched ? this.fetched : this.head(request.branch);
      const changes = await request.changes(base);
      const commit = changes ? await this.commitFiles({ base, changes, message: request.message }) : null;
      if (!commit) return { commit: base, attempts: attempt, durationMs: 0, changed: false };
      if (this.rejectPushes > 0) {
        this.rejectPushes--;
        this.land({ [`others/${this.next}.txt`]: 'someone else pushed first\n' }, 'someone else');
        continue;
      }
      if (this.head(request.branch) !== base) continue;
      this.branches.set(request.branch, commit);
      this.fetched = commit;
      return { commit, attempts: attempt, durationMs: 0, changed: true };
    }
    throw new GitError('push still rejected', { transient: true });
  }

  async updateBranch(branch: string, commit: string, expected: string | null): Promise<void> {
    this.reach('push');
    if ((this.branches.get(branch) ?? null) !== expected) throw new GitError(`stale info: ${branch} moved`);
    this.branches.set(branch, commit);
  }
}

function apply(files: Record<string, string>, changes: Record<string, string | null>): Record<string, string> {
  const out = { ...files };
  for (const [path, text] of Object.entries(changes)) {
    if (text === null) for (const p of Object.keys(out)) if (p === path || p.startsWith(`${path}/`)) delete out[p];
    if (text !== null) out[path] = text;
  }
  return out;
}
