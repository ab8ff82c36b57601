import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/main.js';
import type { CliIo } from '../../../src/cli/io.js';
import { isSemverDowngrade } from '../../../src/images/downgrade.js';
import { envYaml, serviceYaml } from '../manifest/support.js';
import { bareRemote, cloneOf, git, removeTemps, subjects } from '../promotion/support.js';

afterAll(removeTemps);

const R = '127.0.0.1:5000/app';
const seed = {
  'environments/citest/environment.yaml': envYaml('citest'),
  'environments/citest/web.yaml': serviceYaml('web', '', `${R}:1.4.0`),
};

function captureIo(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, cwd, isTTY: false };
  return { io, out, err };
}

async function ci() {
  const remote = await bareRemote(seed);
  const clone = await cloneOf(remote, 'CI Bot', 'ci@example.com');
  return { remote, clone };
}

describe('stagecoach set-image', () => {
  it('commits, says what, exits 0; a second run is a no-op with exit 0', async () => {
    const { remote, clone } = await ci();
    const first = captureIo(clone);
    expect(await runCli(['set-image', '--env', 'citest', `web=${R}:1.5.0`], first.io)).toBe(0);
    expect(first.out.join('\n')).toMatch(new RegExp(`^committed [0-9a-f]{7} to main: web ${R}:1\\.4\\.0 → ${R}:1\\.5\\.0$`));
    expect(await git(remote, ['show', 'main:environments/citest/web.yaml'])).toContain(`image: ${R}:1.5.0`);
    expect(await git(remote, ['log', '-1', '--format=%(trailers:key=Stagecoach-Update-Policy,valueonly)', 'main'])).toBe('web set-image');
    expect(await git(remote, ['log', '-1', '--format=%b', 'main'])).toContain('Set by set-image (CI Bot <ci@example.com>).');
    const again = captureIo(clone);
    expect(await runCli(['set-image', '--env', 'citest', `web=${R}:1.5.0`], again.io)).toBe(0);
    expect(again.out).toEqual([`citest already has web=${R}:1.5.0 on main; nothing to commit`]);
    expect(await subjects(remote)).toHaveLength(2);
  });

  it.each([
    [[`web=${R}:Bad Tag`], /web: image "127\.0\.0\.1:5000\/app:Bad Tag" contains whitespace/],
    [[`api=${R}:1.5.0`], /api: no Service named api with an image: line in environments\/citest/],
    [[`web=${R}:1.3.9`], /web: would downgrade from 127\.0\.0\.1:5000\/app:1\.4\.0 to 127\.0\.0\.1:5000\/app:1\.3\.9 \(pass --allow-downgrade if that is meant\)/],
  ])('refuses %j with exit 1 and commits nothing', async (args, message) => {
    const { remote, clone } = await ci();
    const run = captureIo(clone);
    expect(await runCli(['set-image', '--env', 'citest', ...args], run.io)).toBe(1);
    expect(run.err.join('\n')).toMatch(message);
    expect(await subjects(remote)).toEqual(['Initial config']);
  });

  it('allows a downgrade when asked', async () => {
    const { remote, clone } = await ci();
    expect(await runCli(['set-image', '--env', 'citest', '--allow-downgrade', `web=${R}:1.3.9`], captureIo(clone).io)).toBe(0);
    expect(await git(remote, ['show', 'main:environments/citest/web.yaml'])).toContain(`image: ${R}:1.3.9`);
  });

  it('exits 2 on usage errors', async () => {
    const { clone } = await ci();
    for (const args of [['set-image', '--env', 'citest', 'web'], ['set-image', `web=${R}:2`], ['set-image', '--env', 'citest', '--repo', '/nonexistent', `web=${R}:2`]]) {
      const run = captureIo(clone);
      expect(await runCli(args, run.io)).toBe(2);
    }
  });

  it('finds the branch from origin on a detached CI checkout', async () => {
    const { remote, clone } = await ci();
    await git(clone, ['checkout', '-q', '--detach']);
    expect(await runCli(['set-image', '--env', 'citest', `web=${R}:1.6.0`], captureIo(clone).io)).toBe(0);
    expect(await git(remote, ['show', 'main:environments/citest/web.yaml'])).toContain(`image: ${R}:1.6.0`);
  });
});

describe('isSemverDowngrade', () => {
  it.each([
    [`${R}:1.4.0`, `${R}:1.3.9`, true],
    [`${R}:1.4.0`, `${R}:1.4.0-rc.1`, true],
    [`${R}:1.4.0`, `${R}:1.5.0`, false],
    [`${R}:v2.0.0`, `${R}:1.9.0`, true],
    [`${R}:latest`, `${R}:1.0.0`, false],
    [`${R}:2.0.0`, `other/app:1.0.0`, false],
    [`${R}:2.0.0`, `${R}:1.0.0@sha256:${'a'.repeat(64)}`, true],
  ])('%s → %s: %s', (current, next, expected) => {
    expect(isSemverDowngrade(current, next)).toBe(expected);
  });
});
