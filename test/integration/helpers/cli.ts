import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const projectRoot = path.resolve(new URL('../../..', import.meta.url).pathname);
export const bin = path.join(projectRoot, 'bin/stagecoach.js');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would, with its real exit code (or the signal that killed it). */
export function stagecoach(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd ?? projectRoot,
      env: { ...process.env, STAGECOACH_LOG_LEVEL: 'silent', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A config repo in a temp folder with one environment; write() replaces a manifest file. */
export class ConfigRepo {
  private constructor(
    readonly dir: string,
    readonly env: string,
  ) {}

  static async create(env: string, environmentYaml = ''): Promise<ConfigRepo> {
    const dir = await mkdtemp(path.join(tmpdir(), 'stagecoach-config-'));
    const repo = new ConfigRepo(dir, env);
    await repo.write('environment.yaml', `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\n${environmentYaml}`);
    return repo;
  }

  async write(file: string, text: string | Buffer): Promise<void> {
    const full = path.join(this.dir, 'environments', this.env, file);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, text);
  }

  async remove(file: string): Promise<void> {
    await rm(path.join(this.dir, 'environments', this.env, file), { force: true });
  }

  run(command: 'plan' | 'apply', extra: string[] = [], env: Record<string, string> = {}): Promise<CliRun> {
    return stagecoach([command, '--env', this.env, '--repo', this.dir, ...extra], { env });
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
