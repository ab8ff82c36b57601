import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DaemonStatus, EnvironmentStatus } from '../../src/daemon/status.js';
import { sumMetric } from './prometheus.js';
import { freePort, sleep, waitFor } from './wait.js';

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
export const stagecoachBin = path.join(projectRoot, 'bin', 'stagecoach.js');

/** A structured (pino) log line of the daemon, as far as tests and benchmarks read it. */
export interface DaemonLogEntry {
  time: number;
  msg: string;
  revision?: string;
  decision?: string;
}

export interface DaemonStartOptions {
  /** Reuse a data dir (a restart); otherwise a new temporary one. */
  dataDir?: string;
  /** Run this instead of `node bin/stagecoach.js run` (e.g. `npm start`). */
  command?: string[];
  /** Put this in front of the command (e.g. strace). */
  wrap?: string[];
  /** Start it as its own process group and signal the group (a wrapper such as npm). */
  group?: boolean;
}

/** `stagecoach run` as a child process with its own data dir and port: output, pino log entries, status, metrics. */
export class DaemonProcess {
  output = '';
  /** Structured log lines, newest last (the newest 5,000 kept); and how many lines it wrote to stderr in all. */
  readonly entries: DaemonLogEntry[] = [];
  lines = 0;
  private partial = '';
  private readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly child: ChildProcess,
    readonly base: string,
    readonly dataDir: string,
    private readonly group = false,
  ) {
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      this.output += d.toString();
      const lines = (this.partial + d.toString()).split('\n');
      this.partial = lines.pop() ?? '';
      this.lines += lines.length;
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        try {
          const e = JSON.parse(line) as DaemonLogEntry;
          this.entries.push({ time: e.time, msg: e.msg, revision: e.revision, decision: e.decision });
          if (this.entries.length > 5_000) this.entries.splice(0, 1_000);
        } catch {
          // not a log line
        }
      }
    });
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static async start(args: string[], env: Record<string, string> = {}, options: DaemonStartOptions = {}): Promise<DaemonProcess> {
    const port = await freePort();
    const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'stagecoach-data-')));
    const command = [...(options.wrap ?? []), ...(options.command ?? [process.execPath, stagecoachBin, 'run'])];
    const child = spawn(command[0]!, [...command.slice(1), ...args], {
      cwd: projectRoot,
      env: { ...process.env, STAGECOACH_LISTEN: `127.0.0.1:${port}`, STAGECOACH_DATA: dataDir, STAGECOACH_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.group ?? false,
    });
    const daemon = new DaemonProcess(child, `http://127.0.0.1:${port}`, dataDir, options.group ?? false);
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`the daemon exited with ${child.exitCode}`);
        return fetch(`${daemon.base}/healthz`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok || undefined, () => undefined);
      },
      { timeoutMs: 20_000, intervalMs: 50, what: 'the daemon to answer /healthz', detail: () => `output so far:\n${daemon.tail()}` },
    );
    return daemon;
  }

  get pid(): number {
    return this.child.pid!;
  }

  tail(chars = 4000): string {
    return this.output.slice(-chars);
  }

  async status(): Promise<DaemonStatus> {
    return (await (await fetch(`${this.base}/api/v1/environments`)).json()) as DaemonStatus;
  }

  async environment(name: string): Promise<EnvironmentStatus | undefined> {
    return (await this.status()).environments.find((e) => e.name === name);
  }

  /** Waits until the named environment's status satisfies `ok`; the message shows the last status seen. */
  async waitFor(name: string, ok: (env: EnvironmentStatus) => boolean, what: string, timeoutMs = 60_000): Promise<EnvironmentStatus> {
    let last: EnvironmentStatus | undefined;
    try {
      return await waitFor(
        async () => {
          last = await this.environment(name);
          return last && ok(last) ? last : undefined;
        },
        { timeoutMs, intervalMs: 200, what },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\nlast status: ${JSON.stringify(last, null, 2)}\ndaemon output:\n${this.tail()}`);
    }
  }

  /** Sum of a metric's samples whose labels contain `labelFilter` (e.g. 'result="ok"'). */
  async metric(name: string, labelFilter = ''): Promise<number> {
    return sumMetric(await (await fetch(`${this.base}/metrics`)).text(), name, labelFilter);
  }

  /** Sends a signal and resolves with how the process ended. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      // A wrapper such as npm is signalled with its whole process group, as a terminal would.
      if (this.group && this.child.pid) process.kill(-this.child.pid, signal);
      else this.child.kill(signal);
    }
    return this.exit;
  }

  /** SIGTERM, then SIGKILL if it has not ended within `graceMs`. */
  async terminate(graceMs = 15_000): Promise<void> {
    const ended = await Promise.race([this.stop('SIGTERM').then(() => true), sleep(graceMs).then(() => false)]);
    if (!ended) await this.stop('SIGKILL');
  }

  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    // A git process the daemon started may still be finishing in the data dir after the kill: retry (ENOTEMPTY).
    await rm(this.dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}
