import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GitRepository } from '../../../src/git/repository.js';
import { commitImageBumps } from '../../../src/images/bump-commit.js';
import type { BumpRequest } from '../../../src/images/bump-commit.js';
import { envYaml } from '../manifest/support.js';
import { bareRemote, cloneOf, git, removeTemps, subjects } from '../promotion/support.js';

afterAll(removeTemps);

const R = '127.0.0.1:5000/app';
const webYaml = `# the shop front
apiVersion: stagecoach/v1
kind: Service
name: web
image: "${R}:1.0.0"     # bumped by CI
ports: ["8080"]
---
apiVersion: stagecoach/v1
kind: Service
name: sidecar
image: ${R}:1.0.0
`;
const seed = {
  'environments/autotest/environment.yaml': envYaml('autotest'),
  'environments/autotest/web.yaml': webYaml,
  'environments/autolater/environment.yaml': envYaml('autolater'),
  'environments/autolater/web.yaml': webYaml,
};

/** A bump through the daemon's git port, on a clone. */
const commitIn = (dir: string, overrides: Partial<BumpRequest> = {}) => commitImageBumps(new GitRepository({ dir, branch: 'main' }), request(overrides));

const request = (overrides: Partial<BumpRequest> = {}): BumpRequest => ({
  branch: 'main',
  env: 'autotest',
  bumps: [{ service: 'web', from: `${R}:1.0.0`, to: `${R}:1.0.1`, policy: 'semver ^1' }],
  by: 'stagecoach image automation',
  ...overrides,
});

async function setup() {
  const remote = await bareRemote(seed);
  return { remote, daemon: await cloneOf(remote, 'stagecoach', 'stagecoach@example.com') };
}

async function remoteFile(remote: string, file: string): Promise<string> {
  return git(remote, ['show', `main:${file}`]);
}

describe('commitImageBumps', () => {
  it('commits only the image line, keeping quotes and comments, with trailers naming service, images and policy', async () => {
    const { remote, daemon } = await setup();
    const result = await commitIn(daemon);
    expect(result).toMatchObject({ outcome: 'committed', applied: [{ service: 'web', from: `${R}:1.0.0`, to: `${R}:1.0.1`, policy: 'semver ^1' }], skipped: [] });
    expect(await remoteFile(remote, 'environments/autotest/web.yaml')).toBe(webYaml.replace(`"${R}:1.0.0"`, `"${R}:1.0.1"`).trimEnd());
    expect(await remoteFile(remote, 'environments/autolater/web.yaml')).toBe(webYaml.trimEnd());
    expect(await git(remote, ['log', '-1', '--format=%B', 'main'])).toBe(
      `autotest: update web to ${R}:1.0.1\n\n- web: ${R}:1.0.0 → ${R}:1.0.1 (semver ^1)\n\nSet by stagecoach image automation.\n\nStagecoach-Update-Environment: autotest\nStagecoach-Update-Image: web ${R}:1.0.0 -> ${R}:1.0.1\nStagecoach-Update-Policy: web semver ^1`,
    );
    expect(await git(remote, ['diff', '--stat', 'main~1', 'main'])).toMatch(/1 file changed, 1 insertion\(\+\), 1 deletion\(-\)/);
    // The daemon's own checkout is untouched: it deploys from what it fetched.
    expect(await readFile(path.join(daemon, 'environments/autotest/web.yaml'), 'utf8')).toBe(webYaml);
  });

  it('is idempotent across restarts and across two daemons', async () => {
    const { remote, daemon } = await setup();
    const other = await cloneOf(remote, 'stagecoach-2', 'two@example.com');
    const [a, b] = await Promise.all([commitIn(daemon), commitIn(other)]);
    expect([a.outcome, b.outcome].sort()).toEqual(['committed', 'up-to-date'].sort());
    expect(await commitIn(daemon)).toMatchObject({ outcome: 'up-to-date', applied: [] });
    expect((await subjects(remote)).filter((s) => s.startsWith('autotest: update web'))).toHaveLength(1);
  });

  it('skips a line that moved since the check, and a bump the guard refuses', async () => {
    const { remote, daemon } = await setup();
    const result = await commitIn(daemon, {
      bumps: [
        { service: 'web', from: `${R}:0.9.0`, to: `${R}:1.0.1`, policy: 'semver ^1' },
        { service: 'sidecar', from: `${R}:1.0.0`, to: `${R}:0.1.0`, policy: 'semver *' },
        { service: 'ghost', to: `${R}:1.0.1`, policy: 'set-image' },
      ],
      guard: (_s, current, next) => (next < current ? `would downgrade from ${current}` : undefined),
    });
    expect(result.outcome).toBe('up-to-date');
    expect(result.skipped).toEqual([
      { service: 'web', reason: `its image changed to ${R}:1.0.0 since the check (expected ${R}:0.9.0); the next check decides again` },
      { service: 'sidecar', reason: `would downgrade from ${R}:1.0.0` },
      { service: 'ghost', reason: 'no Service named ghost with an image: line in environments/autotest' },
    ]);
    expect(await subjects(remote)).toEqual(['Initial config']);
  });

  it('refuses a change that leaves the environment invalid, pushing nothing', async () => {
    const { remote, daemon } = await setup();
    const result = await commitIn(daemon, { bumps: [{ service: 'web', to: 'Not/A:Valid Image', policy: 'set-image' }] });
    expect(result.outcome).toBe('invalid');
    expect(result.problems.map((p) => `${p.file}:${p.line} ${p.path} ${p.message}`)).toEqual([expect.stringMatching(/^environments\/autotest\/web\.yaml:5 \/image is not a valid image reference/)]);
    expect(await subjects(remote)).toEqual(['Initial config']);
  });

  it('lands on a remote that moved since the clone was made', async () => {
    const { remote, daemon } = await setup();
    const person = await cloneOf(remote);
    await git(person, ['commit', '-q', '--allow-empty', '-m', 'someone else']);
    await git(person, ['push', '-q', 'origin', 'main']);
    expect(await commitIn(daemon)).toMatchObject({ outcome: 'committed' });
    expect(await subjects(remote)).toEqual([`autotest: update web to ${R}:1.0.1`, 'someone else', 'Initial config']);
  });
});
