import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/main.js';

const projectRoot = path.resolve(new URL('../../..', import.meta.url).pathname);
let taken: Server;
let port: number;
let dataDir: string;

beforeAll(async () => {
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  port = (taken.address() as AddressInfo).port;
  dataDir = await mkdtemp(path.join(tmpdir(), 'stagecoach-run-'));
});

afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
  await rm(dataDir, { recursive: true, force: true });
});

describe('stagecoach run on a listen address that is taken', () => {
  it('says so and returns exit code 2 before starting anything', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), env: { STAGECOACH_DATA: dataDir }, cwd: projectRoot, isTTY: false };
    const code = await runCli(['run', '--listen', `127.0.0.1:${port}`, '--repo', 'git://127.0.0.1:1/none.git'], io);
    expect(code).toBe(2);
    expect(err.join('\n')).toBe(`stagecoach: cannot listen on 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
    expect(out).toEqual([]);
  });

  it('the installed binary exits with 2 instead of hanging', async () => {
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [path.join(projectRoot, 'bin/stagecoach.js'), 'run', '--listen', `127.0.0.1:${port}`, '--repo', 'git://127.0.0.1:1/none.git'], { cwd: projectRoot, env: { ...process.env, STAGECOACH_DATA: dataDir }, timeout: 8_000 }, () => undefined);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
    });
    expect(result).toMatchObject({ code: 2, signal: null, stderr: expect.stringContaining(`cannot listen on 127.0.0.1:${port}`) });
  });
});
