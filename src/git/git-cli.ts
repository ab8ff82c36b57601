import { simpleGit } from 'simple-git';
import type { SimpleGit } from 'simple-git';
import { GitError } from '../errors.js';
import { redactText } from '../source/redact.js';

/** Variables git may see: credentials and ssh setup of the user, identity for commits. Everything else GIT_* is stripped by simple-git. */
const allowEnvironment = [
  'GIT_SSH_COMMAND',
  'GIT_SSH',
  'GIT_ASKPASS',
  'GIT_TERMINAL_PROMPT',
  'GIT_CONFIG_GLOBAL',
  'GIT_CONFIG_NOSYSTEM',
  'GIT_AUTHOR_NAME',
  'GIT_AUTHOR_EMAIL',
  'GIT_COMMITTER_NAME',
  'GIT_COMMITTER_EMAIL',
  'GIT_INDEX_FILE',
];

/** simple-git for one directory. `completion.onExit: false` drops the 50 ms simple-git otherwise waits after every command that prints nothing. */
export function gitIn(dir: string, timeoutMs = 60_000, extraEnv: Record<string, string> = {}): SimpleGit {
  return simpleGit({ baseDir: dir, allowEnvironment, timeout: { block: timeoutMs }, completion: { onClose: true, onExit: false } }).env({
    ...Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && (allowEnvironment.includes(k) || !/^(GIT_|EDITOR$|PAGER$|VISUAL$)/.test(k)))),
    GIT_TERMINAL_PROMPT: '0',
    ...extraEnv,
  } as Record<string, string>);
}

const transientPatterns = [/could not read from remote/i, /connection (refused|reset|timed out)/i, /unable to access/i, /could not resolve host/i, /timed out/i, /early eof/i, /failed to connect/i, /unable to connect/i, /block timeout/i];

/** Wraps a git failure: what failed, where (credentials redacted), and whether retrying may help. */
export function gitError(operation: string, where: string, error: unknown): GitError {
  const raw = error instanceof Error ? error.message : String(error);
  const text = redactText(raw).trim().split('\n').filter(Boolean).slice(-3).join(' ');
  const transient = transientPatterns.some((p) => p.test(raw));
  return new GitError(`git ${operation} ${redactText(where)} failed: ${text}`, { cause: error, transient });
}
