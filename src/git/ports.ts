import type { RepoFiles } from '../manifest/files.js';

/** One commit of `git log`, as the readers of history need it. */
export interface LogEntry {
  commit: string;
  authorDate: string;
  committerDate: string;
  author: string;
  email: string;
  subject: string;
  /** `Key: value` lines (git's %(trailers:only,unfold)). */
  trailers: string;
}

export interface LogQuery {
  revision: string;
  /** Only commits after this one (exclusive). */
  since?: string;
  paths: string[];
  limit?: number;
  reverse?: boolean;
}

/**
 * What the daemon reads from git: the followed branch on the remote, and
 * trees and files at a revision from git objects (never a working tree).
 */
export interface GitReader {
  /** Where the config repo lives, credentials redacted. */
  readonly displayUrl: string;
  /** The commit the followed branch points at on the remote: one ls-remote. */
  remoteHead(): Promise<string>;
  /** Branches on the remote under a prefix (e.g. stagecoach/promote/). */
  remoteBranches(prefix: string): Promise<{ branch: string; commit: string }[]>;
  /** Fetches the followed branch; resolves to the commit it points at. */
  fetch(): Promise<string>;
  /** Fetches another branch of the remote (a proposal); null when it does not exist. */
  fetchBranch(branch: string): Promise<string | null>;
  /** The git tree id of a folder at a revision; null when the folder does not exist there. */
  treeId(revision: string, path: string): Promise<string | null>;
  /** The tree id of every sub-folder of `folder` at a revision (name → tree id). */
  subtrees(revision: string, folder: string): Promise<Record<string, string>>;
  /** The repository's files at a revision, read from git objects. */
  files(revision: string): RepoFiles;
  log(query: LogQuery): Promise<LogEntry[]>;
  isAncestor(ancestor: string, revision: string): Promise<boolean>;
}

/** Commits made by stagecoach may be signed; `key` is a path or key id as git's user.signingkey takes it. */
export interface SignOption {
  format: 'ssh' | 'openpgp';
  key: string;
}

/** Files to set (text) or delete (null), by repo-relative path. */
export type FileChanges = Record<string, string | null>;

export interface CommitRequest {
  base: string;
  changes: FileChanges;
  message: string;
  sign?: SignOption;
}

export interface PushRequest {
  branch: string;
  message: string;
  sign?: SignOption;
  /**
   * The change, built on a base. Called again on the new remote head after a
   * rejected push (that is the rebase); null or no difference = nothing to push.
   */
  changes(base: string): Promise<FileChanges | null>;
  maxAttempts?: number;
}

export interface PushOutcome {
  /** The pushed commit, or the remote head when there was nothing to push. */
  commit: string;
  attempts: number;
  durationMs: number;
  changed: boolean;
}

/** What the daemon writes to git: commits on top of a revision, pushed without force. */
export interface GitWriter {
  /** A commit of `changes` on top of `base`, made from git objects (no checkout); null when the tree would not change. */
  commitFiles(request: CommitRequest): Promise<string | null>;
  /** Commits on the remote head and pushes; on rejection fetches and rebuilds on the new head, with backoff. Never forces. */
  push(request: PushRequest): Promise<PushOutcome>;
  /** Points a branch on the remote at `commit`, only if it is still at `expected` (null: must not exist). */
  updateBranch(branch: string, commit: string, expected: string | null): Promise<void>;
}
