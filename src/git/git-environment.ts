// Apart from git-cli.ts so that a caller running git itself (local-revision.ts) does not load simple-git.

/** Variables git may see: credentials and ssh setup of the user, identity for commits. Everything else GIT_* is stripped by simple-git. */
export const allowEnvironment = [
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

/** The environment git runs with: this process's, without GIT_* (but allowEnvironment), editors and pagers; never prompting. */
export function gitEnvironment(extraEnv: Record<string, string> = {}): Record<string, string> {
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && (allowEnvironment.includes(k) || !/^(GIT_|EDITOR$|PAGER$|VISUAL$)/.test(k)))),
    GIT_TERMINAL_PROMPT: '0',
    ...extraEnv,
  } as Record<string, string>;
}
