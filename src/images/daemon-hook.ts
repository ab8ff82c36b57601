import type { Logger } from 'pino';
import { RegistryClient } from '../registry/client.js';
import { processCredentialHelper } from '../registry/helper-process.js';
import { hostCredentials } from '../registry/host-credentials.js';
import { ImageAutomation } from './automation.js';
import { commitImageBumps } from './bump-commit.js';

export interface ImageAutomationSettings {
  /** The daemon's clone of the config repo (bumps are committed from a temporary worktree of it). */
  dir: string;
  branch: string;
  /** The daemon host's Docker config (`auths`, `credsStore`, `credHelpers`). */
  dockerConfigPath: string;
  /** The environment `docker-credential-*` helpers run with (PATH finds them; some read HOME or cloud variables). */
  helperEnv: Record<string, string | undefined>;
  /** Each registry is asked at most this often. */
  intervalMsFor: (registry: string) => number;
  log: Logger;
  now: () => Date;
}

/** Image automation as the daemon runs it: the registry client with the host's credentials, bumps committed and pushed with retry. */
export function daemonImageAutomation(s: ImageAutomationSettings): ImageAutomation {
  // The checks run inside the daemon's cycle: short waits only. A longer Retry-After pauses that registry until then instead.
  const registry = new RegistryClient({ credentials: hostCredentials(s.dockerConfigPath, processCredentialHelper({ env: s.helperEnv })), maxRetryAfterMs: 5_000, maxAttempts: 3, timeoutMs: 15_000 });
  return new ImageAutomation({
    registry,
    log: s.log.child({ component: 'images' }),
    now: s.now,
    intervalMsFor: s.intervalMsFor,
    commit: (environment, bumps) => commitImageBumps({ dir: s.dir, branch: s.branch, env: environment, bumps, by: 'stagecoach image automation' }),
  });
}
