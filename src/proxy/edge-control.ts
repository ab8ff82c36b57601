import { DeployError } from '../errors.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { EdgeColor, EdgeSpec } from './edge-spec.js';
import { colorAlias } from './edge-spec.js';
import { configPath, draining, haproxyConfig, parseServersState, parseSessions, resolved, retireCommands, runtimeApiPort, switchCommands } from './haproxy-config.js';

export interface EdgeClock {
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

const execTimeoutMs = 10_000;

/**
 * The runtime control of one proxy container. HAProxy's runtime API listens
 * on 127.0.0.1 inside the proxy container only; it is reached with `docker
 * exec` (sh + nc in the image), so it works on every engine stagecoach can
 * reach (local socket, tcp+TLS, ssh) and is never exposed on a host port.
 */
export class EdgeControl {
  constructor(private readonly runtime: ContainerRuntime, private readonly id: string, private readonly name: string) {}

  /** Sends runtime API commands (one connection, separated by ';') and returns HAProxy's answer. */
  async api(commands: string[]): Promise<string> {
    const script = `printf '%s\\n' "$1" | nc 127.0.0.1 ${runtimeApiPort}`;
    const { exitCode, output } = await this.runtime.exec(this.id, ['sh', '-c', script, 'edge', commands.join('; ')], execTimeoutMs);
    if (exitCode !== 0) throw new DeployError(`edge proxy ${this.name}: runtime API did not answer (${exitCode === 'timeout' ? 'timed out' : `exit ${exitCode}`}): ${output.trim()}`);
    return output;
  }

  /** Runs `set` commands; HAProxy answers them with nothing on success and a message on failure. */
  async set(commands: string[]): Promise<void> {
    const answer = (await this.api(commands)).trim();
    if (answer !== '') throw new DeployError(`edge proxy ${this.name}: ${commands.join('; ')}: ${answer}`);
  }

  /** Rewrites the configuration file, so a restarted proxy serves the same colour. */
  async writeConfig(text: string): Promise<void> {
    const script = `printf '%s' "$1" > ${configPath}.new && mv ${configPath}.new ${configPath}`;
    const { exitCode, output } = await this.runtime.exec(this.id, ['sh', '-c', script, 'edge', text], execTimeoutMs);
    if (exitCode !== 0) throw new DeployError(`edge proxy ${this.name}: cannot write ${configPath} (${exitCode === 'timeout' ? 'timed out' : `exit ${exitCode}`}): ${output.trim()}`);
  }

  /**
   * Waits until Docker's DNS gave HAProxy an address for `color` in every
   * backend. A proxy that has just started may not listen on its runtime API
   * yet: that counts as "not yet" until the deadline.
   */
  async waitResolved(spec: EdgeSpec, color: EdgeColor, clock: EdgeClock, timeoutMs = 15_000): Promise<void> {
    const deadline = clock.now() + timeoutMs;
    let last = 'not resolved';
    for (;;) {
      try {
        if (resolved(parseServersState(await this.api(['show servers state'])), spec, color)) return;
        last = 'not resolved';
      } catch (error) {
        last = (error as Error).message;
      }
      if (clock.now() >= deadline) throw new DeployError(`edge proxy ${this.name}: ${colorAlias(spec.service, color)} did not resolve on the environment network within ${timeoutMs / 1000}s (${last})`);
      await clock.sleep(100);
    }
  }

  /** Waits until no connection is left on the other colour, at most spec.drainMs; returns how many were left. */
  async waitDrained(spec: EdgeSpec, active: EdgeColor, clock: EdgeClock): Promise<number> {
    const deadline = clock.now() + spec.drainMs;
    for (;;) {
      const left = draining(parseSessions(await this.api(['show stat'])), spec, active);
      if (left === 0 || clock.now() >= deadline) return left;
      await clock.sleep(200);
    }
  }
}

export interface SwitchSteps {
  /** Called once the file names `active` but the running proxy has not switched yet (file and proxy disagree: a crash test hooks in here). */
  afterConfig?: () => Promise<void>;
  /** Called once new connections go to `active` (a crash test hooks in here). */
  afterSwitch?: () => Promise<void>;
}

/**
 * Makes `active` the colour that serves: waits until DNS finds it, writes the
 * file, switches new connections to it (the other colour drains: its open
 * connections finish), waits for the drain (bounded by spec.drainMs), then
 * takes the other colour out. Idempotent: activating the active colour only
 * re-checks and rewrites.
 */
export async function activate(control: EdgeControl, spec: EdgeSpec, active: EdgeColor, clock: EdgeClock, steps: SwitchSteps = {}): Promise<{ leftOpen: number }> {
  await control.waitResolved(spec, active, clock);
  await control.writeConfig(haproxyConfig(spec, active));
  await steps.afterConfig?.();
  await control.set(switchCommands(spec, active));
  await steps.afterSwitch?.();
  const leftOpen = await control.waitDrained(spec, active, clock);
  await control.set(retireCommands(spec, active));
  return { leftOpen };
}
