import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DaemonStatus, EnvironmentStatus } from '../../../src/daemon/status.js';
import { bin, projectRoot } from './cli.js';
import { freePort, waitFor } from './docker.js';

/** `stagecoach run` as a child process with its own data dir and port. */
export class DaemonProcess {
  output = '';
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly child: ChildProcess,
    readonly base: string,
    readonly dataDir: string,
    private readonly group = false,
  ) {
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static async start(args: string[], env: Record<string, string> = {}, options: { dataDir?: string; command?: string[]; group?: boolean } = {}): Promise<DaemonProcess> {
    const port = await freePort();
    const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'stagecoach-data-')));
    const command = options.command ?? [process.execPath, bin, 'run'];
    const child = spawn(command[0]!, [...command.slice(1), ...args], {
      cwd: projectRoot,
      env: { ...process.env, STAGECOACH_LISTEN: `127.0.0.1:${port}`, STAGECOACH_DATA: dataDir, STAGECOACH_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.group ?? false,
    });
    const daemon = new DaemonProcess(child, `http://127.0.0.1:${port}`, dataDir, options.group ?? false);
    await waitFor(() => fetch(`${daemon.base}/healthz`).then((r) => r.ok || undefined, () => undefined), { timeoutMs: 20_000, intervalMs: 100, what: `the daemon to answer /healthz (output so far:\n${daemon.output})` });
    return daemon;
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
      throw new Error(`${(error as Error).message}\nlast status: ${JSON.stringify(last, null, 2)}\ndaemon output:\n${this.output.slice(-4000)}`);
    }
  }

  /** Sum of a metric's samples whose labels contain `labelFilter` (e.g. 'result="ok"'). */
  async metric(name: string, labelFilter = ''): Promise<number> {
    const text = await (await fetch(`${this.base}/metrics`)).text();
    return text
      .split('\n')
      .map((l) => /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null && m[1] === name && (m[2] ?? '').includes(labelFilter))
      .reduce((sum, m) => sum + Number(m[3]), 0);
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

  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
