import { spawn, execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from './wait.js';

const run = promisify(execFile);
const identity = { GIT_AUTHOR_NAME: 'Test User', GIT_AUTHOR_EMAIL: 'user@example.com', GIT_COMMITTER_NAME: 'Test User', GIT_COMMITTER_EMAIL: 'user@example.com' };

/** Runs git as a person (a fixed identity); returns trimmed stdout. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: { ...process.env, ...identity }, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/** `git daemon` on loopback serving bare repositories over git://, with push enabled; can be stopped and started again on the same port. */
export class GitServer {
  private process: ChildProcess | undefined;

  private constructor(
    readonly baseDir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<GitServer> {
    const server = new GitServer(await mkdtemp(path.join(tmpdir(), 'stagecoach-git-')), await freePort());
    await server.up();
    return server;
  }

  url(name: string): string {
    return `git://127.0.0.1:${this.port}/${name}.git`;
  }

  path(name: string): string {
    return path.join(this.baseDir, `${name}.git`);
  }

  async up(): Promise<void> {
    this.process = spawn('git', ['daemon', '--reuseaddr', '--export-all', '--enable=receive-pack', `--base-path=${this.baseDir}`, '--listen=127.0.0.1', `--port=${this.port}`, this.baseDir], {
      stdio: 'ignore',
    });
    await waitFor(async () => (await run('git', ['ls-remote', `git://127.0.0.1:${this.port}/none.git`]).then(() => true, (e: { stderr?: string }) => !/Connection refused|unable to connect/i.test(e.stderr ?? ''))) || undefined, {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'git daemon to listen',
    });
  }

  async down(): Promise<void> {
    const p = this.process;
    this.process = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  }

  /** A bare repository with one commit holding `files`. */
  async createRepo(name: string, files: Record<string, string>): Promise<string> {
    await git(this.baseDir, 'init', '--bare', '--initial-branch=main', `${name}.git`);
    const work = await mkdtemp(path.join(tmpdir(), 'stagecoach-seed-'));
    await git(work, 'init', '--initial-branch=main');
    for (const [file, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(work, file)), { recursive: true });
      await writeFile(path.join(work, file), text);
    }
    await git(work, 'add', '.');
    await git(work, 'commit', '-m', 'Initial config');
    await git(work, 'push', this.path(name), 'main');
    await rm(work, { recursive: true, force: true });
    return this.url(name);
  }

  async dispose(): Promise<void> {
    await this.down();
    await rm(this.baseDir, { recursive: true, force: true });
  }
}

/** A person's clone of the config repo: edit, commit, push, as a user would. */
export class UserClone {
  private constructor(readonly dir: string) {}

  static async of(url: string, prefix = 'stagecoach-user-'): Promise<UserClone> {
    const dir = await mkdtemp(path.join(tmpdir(), prefix));
    await git(dir, 'clone', '-q', url, '.');
    return new UserClone(dir);
  }

  async write(file: string, text: string): Promise<void> {
    await mkdir(path.dirname(path.join(this.dir, file)), { recursive: true });
    await writeFile(path.join(this.dir, file), text);
  }

  /** Commits everything and pushes, pulling again when the daemon's markers got there first (as a person would); returns the new commit. */
  async push(message: string): Promise<string> {
    await git(this.dir, 'add', '-A');
    await git(this.dir, 'commit', '-q', '-m', message);
    for (let attempt = 1; ; attempt++) {
      await git(this.dir, 'pull', '-q', '--rebase');
      try {
        await git(this.dir, 'push', '-q', 'origin', 'HEAD:main');
        break;
      } catch (error) {
        if (attempt >= 10) throw error;
      }
    }
    return git(this.dir, 'rev-parse', 'HEAD');
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
