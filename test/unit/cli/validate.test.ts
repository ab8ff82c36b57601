import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/main.js';
import type { CliIo } from '../../../src/cli/io.js';
import { envYaml, serviceYaml } from '../manifest/support.js';

const projectRoot = path.resolve(new URL('../../..', import.meta.url).pathname);
const bin = path.join(projectRoot, 'bin/stagecoach.js');
let dir: string;

function captureIo(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, cwd, isTTY: false };
  return { io, out, err };
}

async function writeRepo(root: string, files: Record<string, string>) {
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stagecoach-cli-'));
  await writeRepo(path.join(dir, 'good'), {
    'environments/testing/environment.yaml': envYaml(),
    'environments/testing/web.yaml': serviceYaml('web'),
  });
  await writeRepo(path.join(dir, 'bad'), {
    'environments/testing/environment.yaml': envYaml(),
    'environments/testing/web.yaml': serviceYaml('web', 'deploy:\n  replicas: -1\n'),
    'environments/staging/environment.yaml': envYaml('staging'),
    'environments/staging/web.yaml': serviceYaml('web', 'imagee: x\n'),
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('stagecoach validate', () => {
  it('exits 0 and says what it checked when the repo is valid', async () => {
    const { io, out } = captureIo(dir);
    expect(await runCli(['validate', '--repo', 'good'], io)).toBe(0);
    expect(out).toEqual(['ok: 1 environments valid (testing), 1 services']);
  });

  it('exits 1 and lists every problem of every environment', async () => {
    const { io, out } = captureIo(path.join(dir, 'bad'));
    expect(await runCli(['validate'], io)).toBe(1);
    expect(out).toEqual([
      'environments/staging/web.yaml:5:1: /imagee is not a known field (did you mean "image"?)',
      'environments/testing/web.yaml:6:13: /deploy/replicas must be >= 0 (got -1)',
      '\n2 problems in 2 of 2 environments',
    ]);
  });

  it('prints JSON with --json', async () => {
    const { io, out } = captureIo(dir);
    expect(await runCli(['validate', '--repo', 'bad', '--json'], io)).toBe(1);
    const result = JSON.parse(out.join(''));
    expect(result.valid).toBe(false);
    expect(result.problems[1]).toEqual({
      file: 'environments/testing/web.yaml',
      line: 6,
      column: 13,
      path: '/deploy/replicas',
      message: 'must be >= 0 (got -1)',
      text: 'environments/testing/web.yaml:6:13: /deploy/replicas must be >= 0 (got -1)',
    });
  });

  it.each([
    [['validate', '--repo', 'missing'], /config repo .*missing does not exist/],
    [['validate', '--repo', '.'], /has no environments\/ folder; is --repo pointing at a config repo\?/],
    [['validate', '--bogus'], /unknown option '--bogus'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['history', '--env', 'testing'], /is not a git repository; --repo must be a clone of the config repo/],
    [['plan'], /required option '--env <name>' not specified/],
  ])('exits 2 for %j', async (argv, message) => {
    const { io, err } = captureIo(dir);
    expect(await runCli(argv, io)).toBe(2);
    expect(err.join('')).toMatch(message);
  });

  it('runs as the installed binary with real exit codes', async () => {
    const run = promisify(execFile);
    const good = await run('node', [bin, 'validate', '--repo', path.join(dir, 'good')]);
    expect(good.stdout).toBe('ok: 1 environments valid (testing), 1 services\n');
    const bad = await run('node', [bin, 'validate', '--repo', path.join(dir, 'bad')]).catch((e: { code: number; stdout: string }) => e);
    expect(bad).toMatchObject({ code: 1 });
    expect((bad as { stdout: string }).stdout).toContain('/deploy/replicas must be >= 0 (got -1)');
    const help = await run('node', [bin, '--help']);
    for (const command of ['run', 'validate', 'plan', 'apply', 'verify', 'status', 'history', 'promote', 'rollback']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });
});
