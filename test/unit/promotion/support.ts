import { execFile } from 'node:child_process';
import { GitRepository } from '../../../src/git/repository.js';
import { MarkerIndex } from '../../../src/promotion/marker-index.js';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildMarker, markerCommitMessage, markerPath, markerYaml } from '../../../src/promotion/marker.js';
import type { MarkerService, PromotionMarker } from '../../../src/promotion/marker.js';
import type { TestOutcome, TestResult } from '../../../src/verify/types.js';

const run = promisify(execFile);

/** Runs git in `cwd` with the caller's environment; `env` adds variables (fixed dates, say). Returns trimmed stdout. */
export async function git(cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/** Temporary directories made by one test file; `removeTemps()` in afterEach/afterAll. */
const temps: string[] = [];

export async function tempDir(prefix = 'stagecoach-unit-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

export async function removeTemps(): Promise<void> {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

export async function identify(dir: string, name = 'Test User', email = 'user@example.com'): Promise<void> {
  await git(dir, ['config', 'user.name', name]);
  await git(dir, ['config', 'user.email', email]);
  await git(dir, ['config', 'commit.gpgsign', 'false']);
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
}

/** Writes files, stages everything and commits; returns the new commit. */
export async function commitFiles(dir: string, files: Record<string, string>, message: string): Promise<string> {
  await writeFiles(dir, files);
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '-q', '-m', message]);
  return git(dir, ['rev-parse', 'HEAD']);
}

/** A plain repository (no remote) with one commit holding `files`. */
export async function localRepo(files: Record<string, string>): Promise<string> {
  const dir = await tempDir('stagecoach-repo-');
  await git(dir, ['init', '-q', '--initial-branch=main']);
  await identify(dir);
  await commitFiles(dir, files, 'Initial config');
  return dir;
}

/**
 * A bare "remote" on main with one commit holding `files`. Non-fast-forward
 * updates are refused unless `allowForce`, so a force push fails loudly.
 */
export async function bareRemote(files: Record<string, string>, options: { allowForce?: boolean } = {}): Promise<string> {
  const remote = path.join(await tempDir('stagecoach-remote-'), 'config.git');
  await git(path.dirname(remote), ['init', '-q', '--bare', '--initial-branch=main', remote]);
  if (!options.allowForce) await git(remote, ['config', 'receive.denyNonFastForwards', 'true']);
  const seed = await localRepo(files);
  await git(seed, ['push', '-q', remote, 'main']);
  return remote;
}

/** A clone of `remote` with its own identity, as a daemon or a person has. */
export async function cloneOf(remote: string, name = 'Test User', email = 'user@example.com'): Promise<string> {
  const dir = path.join(await tempDir('stagecoach-clone-'), 'work');
  await git(path.dirname(dir), ['clone', '-q', remote, dir]);
  await identify(dir, name, email);
  return dir;
}

/** Subjects of `ref` in `dir`, newest first. */
export async function subjects(dir: string, ref = 'main'): Promise<string[]> {
  const out = await git(dir, ['log', '--format=%s', ref]);
  return out ? out.split('\n') : [];
}

export function testResult(name: string, result: TestOutcome, message = result === 'passed' ? '200 from GET http://web/' : 'expected 200, got 503 from GET http://web/'): TestResult {
  return { name, kind: 'http', result, durationMs: 12, attempts: 1, message };
}

/**
 * A marker for `environment` at `revision` with services given as
 * `{ web: 'app:1' }` or `{ web: ['app:1', 'sha256:…'] }` and one test per outcome.
 */
export function markerOf(environment: string, revision: string, services: Record<string, string | [string, string]>, outcomes: TestOutcome[] = ['passed']): PromotionMarker {
  const facts: Record<string, MarkerService> = Object.fromEntries(
    Object.entries(services).map(([name, s]) => [name, typeof s === 'string' ? { image: s, digest: null, imageId: null } : { image: s[0], digest: s[1], imageId: null }]),
  );
  return buildMarker({
    environment,
    revision,
    startedAt: new Date('2026-01-02T03:04:05.000Z'),
    finishedAt: new Date('2026-01-02T03:04:07.500Z'),
    trigger: 'deploy',
    services: facts,
    tests: outcomes.map((o, i) => testResult(`check-${i + 1}`, o)),
  });
}

/** Writes and commits a marker the way the daemon does (verifyAndMark without the push); returns the commit. */
export async function commitMarker(dir: string, marker: PromotionMarker, env: Record<string, string> = {}): Promise<string> {
  await writeFiles(dir, { [markerPath(marker.environment)]: markerYaml(marker) });
  await git(dir, ['add', markerPath(marker.environment)]);
  await git(dir, ['commit', '-q', '-m', markerCommitMessage(marker)], env);
  return git(dir, ['rev-parse', 'HEAD']);
}

export const rev = (c: string) => c.repeat(40).slice(0, 40);

/** The git ports over a clone (its branch main). */
export function repoAt(dir: string): GitRepository {
  return new GitRepository({ dir, branch: 'main', sleep: async () => undefined });
}

/** A MarkerIndex over a clone, refreshed to whatever HEAD is when asked. */
export function markerIndexIn(dir: string): MarkerIndex & { refreshHead(): Promise<number> } {
  const repo = repoAt(dir);
  const index = new MarkerIndex(repo);
  return Object.assign(index, { refreshHead: async () => index.refresh(await repo.resolve('HEAD')) });
}
