import { afterAll, describe, expect, it } from 'vitest';
import { proposalBranch, proposeInClone } from '../../../src/promotion/propose.js';
import type { ProposalRequest } from '../../../src/promotion/propose.js';
import { envYaml, serviceYaml } from '../manifest/support.js';
import { bareRemote, cloneOf, commitFiles, git, localRepo, removeTemps, rev, subjects } from './support.js';

afterAll(removeTemps);

const verified = rev('1a2b3c4d');

/** testing, staging (from testing) and production (from staging), each running web app:1 and worker job:1. */
const seed: Record<string, string> = {};
for (const [env, from] of [['testing', null], ['staging', 'testing'], ['production', 'staging']] as const) {
  seed[`environments/${env}/environment.yaml`] = envYaml(env, from ? `promotion:\n  from: ${from}\n` : '');
  seed[`environments/${env}/web.yaml`] = serviceYaml('web', 'ports: ["8080"]   # the shop\n', 'app:1');
  seed[`environments/${env}/worker.yaml`] = serviceYaml('worker', '', 'job:1');
}

const request = (_dir: string, overrides: Partial<ProposalRequest> = {}): ProposalRequest => ({
  branch: 'main',
  from: 'testing',
  to: 'staging',
  images: { web: 'app:2' },
  verifiedAt: verified,
  mode: 'branch',
  by: 'alice',
  ...overrides,
});

/** The proposal branch belongs to stagecoach and is replaced with --force-with-lease, so this remote allows non-fast-forward updates; main is checked by value. */
async function setup() {
  const remote = await bareRemote(seed, { allowForce: true });
  const daemon = await cloneOf(remote, 'stagecoach', 'stagecoach@example.com');
  const main = await git(remote, ['rev-parse', 'main']);
  return { remote, daemon, main };
}

/** The daemon's own checkout must never be disturbed by a proposal. */
async function expectUntouched(daemon: string, head: string): Promise<void> {
  expect(await git(daemon, ['rev-parse', 'HEAD'])).toBe(head);
  expect(await git(daemon, ['status', '--porcelain'])).toBe('');
  expect((await git(daemon, ['worktree', 'list', '--porcelain'])).split('\n').filter((l) => l.startsWith('worktree ')).length).toBe(1);
}

describe('proposePromotion', () => {
  it('branch mode: pushes stagecoach/promote/<env> with one commit on top of main that changes only that environment', async () => {
    const { remote, daemon, main } = await setup();
    const result = await proposeInClone(daemon, request(daemon, { images: { web: 'app:2', worker: 'job:1' } }));
    const branch = proposalBranch('staging');
    expect(branch).toBe('stagecoach/promote/staging');
    expect(result).toEqual({ outcome: 'proposed', ref: branch, commit: await git(remote, ['rev-parse', branch]), changed: [{ service: 'web', from: 'app:1', to: 'app:2' }] });

    expect(await git(remote, ['rev-parse', `${branch}~1`])).toBe(main);
    expect(await git(remote, ['rev-parse', 'main'])).toBe(main);
    expect(await git(remote, ['diff', '--name-only', 'main', branch])).toBe('environments/staging/web.yaml');
    // What the person merging reviews: the image line and nothing else.
    expect((await git(remote, ['diff', '-U0', 'main', branch, '--', 'environments/staging/web.yaml'])).split('\n').filter((l) => /^[-+][^-+]/.test(l))).toEqual(['-image: app:1', '+image: app:2']);
    expect(await git(remote, ['log', '-1', '--format=%an <%ae>%n%B', branch])).toBe(
      [
        'stagecoach <stagecoach@example.com>',
        'promote staging: web app:2',
        '',
        'Verified in testing at 1a2b3c4; proposed by alice.',
        '- web: app:1 → app:2',
        '',
        'Stagecoach-Promote-From: testing',
        'Stagecoach-Promote-To: staging',
        `Stagecoach-Verified-Revision: ${verified}`,
      ].join('\n'),
    );
    await expectUntouched(daemon, main);
  });

  it('re-proposing the same images is up-to-date and leaves the branch alone', async () => {
    const { remote, daemon, main } = await setup();
    const first = await proposeInClone(daemon, request(daemon));
    const again = await proposeInClone(daemon, request(daemon, { verifiedAt: rev('9') }));
    expect(again).toEqual({ outcome: 'up-to-date', ref: 'stagecoach/promote/staging', commit: first.commit, changed: [{ service: 'web', from: 'app:1', to: 'app:2' }] });
    expect(await git(remote, ['rev-parse', 'stagecoach/promote/staging'])).toBe(first.commit);
    await expectUntouched(daemon, main);
  });

  it('a newer proposal replaces the branch: still one commit on top of main', async () => {
    const { remote, daemon, main } = await setup();
    await proposeInClone(daemon, request(daemon));
    const newer = await proposeInClone(daemon, request(daemon, { images: { web: 'app:3' } }));
    expect(newer).toMatchObject({ outcome: 'proposed', changed: [{ service: 'web', from: 'app:1', to: 'app:3' }] });
    expect(await git(remote, ['rev-parse', 'stagecoach/promote/staging'])).toBe(newer.commit);
    expect(await git(remote, ['rev-list', '--count', 'main..stagecoach/promote/staging'])).toBe('1');
    expect(await git(remote, ['rev-parse', 'stagecoach/promote/staging~1'])).toBe(main);
  });

  it('proposes on top of the remote main even when the daemon’s checkout is behind', async () => {
    const { remote, daemon, main } = await setup();
    const person = await cloneOf(remote);
    await commitFiles(person, { 'environments/staging/worker.yaml': serviceYaml('worker', '', 'job:2') }, 'staging: worker job:2');
    await git(person, ['push', '-q', 'origin', 'main']);
    const moved = await git(remote, ['rev-parse', 'main']);
    const result = await proposeInClone(daemon, request(daemon));
    expect(result.outcome).toBe('proposed');
    expect(await git(remote, ['rev-parse', 'stagecoach/promote/staging~1'])).toBe(moved);
    await expectUntouched(daemon, main);
  });

  it('is up-to-date, creating no branch, when the environment already runs those images', async () => {
    const { remote, daemon, main } = await setup();
    const result = await proposeInClone(daemon, request(daemon, { images: { web: 'app:1', worker: 'job:1' } }));
    expect(result).toEqual({ outcome: 'up-to-date', ref: 'stagecoach/promote/staging', changed: [] });
    expect(await git(remote, ['branch', '--list', 'stagecoach/*'])).toBe('');
    await expectUntouched(daemon, main);
  });

  it('commit mode: pushes the promotion straight to main, touching only that environment', async () => {
    const { remote, daemon, main } = await setup();
    const result = await proposeInClone(daemon, request(daemon, { to: 'production', from: 'staging', mode: 'commit', images: { worker: 'job:2' } }));
    expect(result).toEqual({ outcome: 'committed', ref: 'main', commit: await git(remote, ['rev-parse', 'main']), changed: [{ service: 'worker', from: 'job:1', to: 'job:2' }] });
    expect(await subjects(remote)).toEqual(['promote production: worker job:2', 'Initial config']);
    expect(await git(remote, ['diff', '--name-only', main, 'main'])).toBe('environments/production/worker.yaml');
    expect(await git(remote, ['branch', '--list', 'stagecoach/*'])).toBe('');
    await expectUntouched(daemon, main);
  });

  it('commit mode builds on the remote main, not on the daemon’s stale checkout', async () => {
    const { remote, daemon } = await setup();
    const person = await cloneOf(remote);
    // The remote moves; the daemon's origin/main is stale until the proposal fetches.
    await commitFiles(person, { 'environments/testing/web.yaml': serviceYaml('web', '', 'app:5') }, 'testing: web app:5');
    await git(person, ['push', '-q', 'origin', 'main']);
    const result = await proposeInClone(daemon, request(daemon, { mode: 'commit' }));
    expect(result.outcome).toBe('committed');
    expect(await subjects(remote)).toEqual(['promote staging: web app:2', 'testing: web app:5', 'Initial config']);
  });

  it('without an origin, branch mode makes a local branch only', async () => {
    const dir = await localRepo(seed);
    const head = await git(dir, ['rev-parse', 'HEAD']);
    const result = await proposeInClone(dir, request(dir));
    expect(result).toMatchObject({ outcome: 'proposed', ref: 'stagecoach/promote/staging', changed: [{ service: 'web', from: 'app:1', to: 'app:2' }] });
    expect(await git(dir, ['rev-parse', 'stagecoach/promote/staging'])).toBe(result.commit);
    expect(await git(dir, ['rev-parse', 'stagecoach/promote/staging~1'])).toBe(head);
    await expectUntouched(dir, head);
  });

  it('without an origin, commit mode commits onto the checked-out branch', async () => {
    const dir = await localRepo(seed);
    const result = await proposeInClone(dir, request(dir, { mode: 'commit' }));
    expect(result).toMatchObject({ outcome: 'committed', ref: 'main' });
    expect(await subjects(dir)).toEqual(['promote staging: web app:2', 'Initial config']);
    expect(await git(dir, ['status', '--porcelain'])).toBe('');
  });
});
