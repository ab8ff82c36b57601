import { execFile } from 'node:child_process';
import { simpleGit } from 'simple-git';
import type { SimpleGit } from 'simple-git';
import { GitError } from '../errors.js';
import { redactText } from '../source/redact.js';
import { allowEnvironment, gitEnvironment } from './git-environment.js';

/** simple-git for one directory. `completion.onExit: false` drops the 50 ms simple-git otherwise waits after every command that prints nothing. */
export function gitIn(dir: string, timeoutMs = 60_000, extraEnv: Record<string, string> = {}): SimpleGit {
  return simpleGit({ baseDir: dir, allowEnvironment, timeout: { block: timeoutMs }, completion: { onClose: true, onExit: false } }).env(gitEnvironment(extraEnv));
}

/**
 * Runs one git command in `dir` with the same environment simple-git gets;
 * resolves to its stdout. A failure carries git's own message (its stderr),
 * and one that ran past timeoutMs says it timed out.
 */
export function runGit(args: string[], dir: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd: dir, env: gitEnvironment(), timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const killed = (error as { killed?: boolean }).killed === true;
      reject(new Error(killed ? `git ${args[0]} timed out after ${+(timeoutMs / 1000).toFixed(1)} s` : stderr.trim() || error.message));
    });
  });
}

const transientPatterns = [/could not read from remote/i, /connection (refused|reset|timed out)/i, /unable to access/i, /could not resolve host/i, /timed out/i, /early eof/i, /failed to connect/i, /unable to connect/i, /block timeout/i];

/** Wraps a git failure: what failed, where (credentials redacted), and whether retrying may help. */
export function gitError(operation: string, where: string, error: unknown): GitError {
  const raw = error instanceof Error ? error.message : String(error);
  const text = redactText(raw).trim().split('\n').filter(Boolean).slice(-3).join(' ');
  const transient = transientPatterns.some((p) => p.test(raw));
  return new GitError(`git ${operation} ${redactText(where)} failed: ${text}`, { cause: error, transient });
}
