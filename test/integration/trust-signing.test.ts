import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateReasons } from '../../src/promotion/gate.js';
import { MarkerIndex } from '../../src/promotion/marker-index.js';
import { commitSignatures } from '../../src/promotion/signing.js';
import { headRefusal, markerVerifier } from '../../src/promotion/trust.js';
import type { CommitTrust } from '../../src/promotion/trust.js';
import { gitIn } from '../../src/git/git-cli.js';
import { GitRepository } from '../../src/git/repository.js';
import { envYaml, loadOne, repoWith, serviceYaml } from '../unit/manifest/support.js';

const run = promisify(execFile);
const identity = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com' };
async function sh(cwd: string, cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    return (await run(cmd, args, { cwd, env: { ...process.env, ...identity, ...env } })).stdout.trim();
  } catch (error) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(error as { stderr?: string }).stderr ?? String(error)}`);
  }
}

let root: string;
let repo: string;
let trusted: CommitTrust;
const keys = { daemon: '', intruder: '' };
let gpgFingerprint = '';
let gpgHome = '';
let keyring = '';

/** A marker commit as anyone could write it: promotions/<env>.yaml with the trailers the gate reads. */
async function marker(env: string, image: string, sign: string[] = []): Promise<string> {
  await mkdir(path.join(repo, 'promotions'), { recursive: true });
  await writeFile(path.join(repo, 'promotions', `${env}.yaml`), `image: ${image}\nat: ${process.hrtime.bigint()}\n`);
  await sh(repo, 'git', ['add', '-A']);
  await sh(repo, 'git', [...sign, 'commit', '-q', '-m', markerMessage(env, image)]);
  return head();
}

const head = () => sh(repo, 'git', ['rev-parse', 'HEAD']);
const port = () => new GitRepository({ dir: repo, branch: 'main' });

function markerMessage(env: string, image: string): string {
  return `${env}: passed 1/1 tests at 1234567\n\n- smoke: passed\n\nStagecoach-Environment: ${env}\nStagecoach-Revision: 1234567890123456789012345678901234567890\nStagecoach-Result: passed\nStagecoach-Image: web ${image}\n`;
}

/** A marker as the daemon writes it: through its git port (commit-tree from git objects), SSH-signed with its key; the branch fast-forwards to it. */
async function daemonMarker(env: string, image: string): Promise<string> {
  const changes = { [`promotions/${env}.yaml`]: `image: ${image}\nat: ${process.hrtime.bigint()}\n` };
  const commit = (await port().commitFiles({ base: await head(), changes, message: markerMessage(env, image), sign: { format: 'ssh', key: keys.daemon } }))!;
  await sh(repo, 'git', ['merge', '-q', '--ff-only', commit]);
  return commit;
}

afterAll(async () => {
  // gpg starts an agent per home: stop the ones this test started, then drop the keys.
  for (const home of [gpgHome, keyring]) if (home) await run('gpgconf', ['--homedir', home, '--kill', 'all']).catch(() => undefined);
  if (root) await rm(root, { recursive: true, force: true });
});

const sshSign = (key: string) => ['-c', 'gpg.format=ssh', '-c', `user.signingKey=${key}`, '-c', 'commit.gpgSign=true'];

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'stagecoach-trust-'));
  for (const name of ['daemon', 'intruder'] as const) {
    keys[name] = path.join(root, name);
    await sh(root, 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', keys[name]]);
  }
  const allowed = path.join(root, 'allowed_signers');
  await writeFile(allowed, `stagecoach-daemon ${await sh(root, 'cat', [`${keys.daemon}.pub`])}\n`);
  // OpenPGP: a signing key in one home, its public half alone in the operator's keyring.
  gpgHome = path.join(root, 'gpg-signer');
  keyring = path.join(root, 'gpg-operator');
  await mkdir(gpgHome, { mode: 0o700 });
  await mkdir(keyring, { mode: 0o700 });
  await sh(root, 'gpg', ['--batch', '--quiet', '--passphrase', '', '--quick-gen-key', 'Release <release@example.com>', 'ed25519', 'sign', 'never'], { GNUPGHOME: gpgHome });
  gpgFingerprint = (await sh(root, 'gpg', ['--list-secret-keys', '--with-colons'], { GNUPGHOME: gpgHome })).split('\n').find((l) => l.startsWith('fpr'))!.split(':')[9]!;
  await writeFile(path.join(root, 'release.pub'), (await run('gpg', ['--export', gpgFingerprint], { env: { ...process.env, GNUPGHOME: gpgHome }, encoding: 'buffer' })).stdout);
  await sh(root, 'gpg', ['--batch', '--quiet', '--import', path.join(root, 'release.pub')], { GNUPGHOME: keyring });
  repo = path.join(root, 'repo');
  await sh(root, 'git', ['init', '-q', '--initial-branch=main', repo]);
  // commit-tree (the daemon's git port) takes its identity from the repo.
  await sh(repo, 'git', ['config', 'user.name', 'stagecoach']);
  await sh(repo, 'git', ['config', 'user.email', 'stagecoach@example.com']);
  await writeFile(path.join(repo, 'README'), 'config\n');
  await sh(repo, 'git', ['add', '-A']);
  await sh(repo, 'git', ['commit', '-q', '-m', 'start']);
  trusted = { keys: { allowedSigners: allowed, openpgpKeyring: keyring }, requireSignedHead: true };
}, 60_000);

describe('signed markers (finding 7), with real keys and real git', () => {
  it('the gate counts only markers signed by a key the operator lists, and says why it ignored the others', async () => {
    const forged = await marker('upstream', 'shop/web:evil');
    const intruder = await marker('upstream', 'shop/web:evil', sshSign(keys.intruder));
    const index = new MarkerIndex(port(), markerVerifier(repo, trusted));
    await index.refresh(await head());
    const downstream = await loadOne(repoWith({ 'environments/testing/environment.yaml': envYaml('testing', 'promotion:\n  from: upstream\n'), 'environments/testing/web.yaml': serviceYaml('web', '', 'shop/web:evil') }));
    expect(gateReasons(downstream, index, {})).toEqual([
      `image shop/web:evil of service web has no passing marker in upstream (upstream has no markers yet; ignored markers ${forged.slice(0, 7)} (not signed), ${intruder.slice(0, 7)} (signed by SSH key ${await fingerprint(keys.intruder)}, which trust.allowedSigners does not list))`,
    ]);
    // The same forged marker opens the gate for a daemon that checks nothing: what main did.
    const unchecked = new MarkerIndex(port());
    await unchecked.refresh(await head());
    expect(gateReasons(downstream, unchecked, {})).toEqual([]);

    // The daemon signs its commits (the sign option of its git port); the real `git verify-commit` agrees.
    const good = await daemonMarker('upstream', 'shop/web:good');
    await expect(sh(repo, 'git', ['-c', `gpg.ssh.allowedSignersFile=${trusted.keys!.allowedSigners}`, 'verify-commit', good])).resolves.toBeDefined();
    await index.refresh(await head());
    const verified = await loadOne(repoWith({ 'environments/testing/environment.yaml': envYaml('testing', 'promotion:\n  from: upstream\n'), 'environments/testing/web.yaml': serviceYaml('web', '', 'shop/web:good') }));
    expect(gateReasons(verified, index, {})).toEqual([]);
    expect(index.latest('upstream')?.commit).toBe(good);
  });

  it('a marker changed after signing is refused as a bad signature', async () => {
    const signed = await daemonMarker('tamper', 'shop/web:1');
    const raw = await sh(repo, 'git', ['cat-file', 'commit', signed]);
    const altered = raw.replace('shop/web:1', 'shop/web:2');
    const objectFile = path.join(root, 'altered-commit');
    await writeFile(objectFile, `${altered}\n`);
    const forged = await sh(repo, 'git', ['hash-object', '-t', 'commit', '-w', objectFile]);
    const verdict = (await commitSignatures(repo, [forged], trusted.keys!)).get(forged);
    expect(verdict).toEqual({ trusted: false, why: expect.stringMatching(/^bad signature by .+ \(the commit was changed after signing\)$/) });
  });
});

describe('a signed head (trust.requireSignedHead), SSH and OpenPGP', () => {
  it('refuses an unsigned head and one signed by an unlisted key; deploys SSH- and OpenPGP-signed heads by listed keys', async () => {
    const commit = async (sign: string[], env: Record<string, string> = {}) => {
      await writeFile(path.join(repo, 'README'), `change ${Math.random()}\n`);
      await sh(repo, 'git', ['add', '-A']);
      await sh(repo, 'git', [...sign, 'commit', '-q', '-m', 'change'], env);
      return sh(repo, 'git', ['rev-parse', 'HEAD']);
    };
    const unsigned = await commit([]);
    expect(await headRefusal(repo, unsigned, trusted)).toBe(`head commit ${unsigned.slice(0, 7)} is not signed; trust.requireSignedHead deploys only commits signed by the operator's keys`);
    const intruder = await commit(sshSign(keys.intruder));
    expect(await headRefusal(repo, intruder, trusted)).toMatch(/is signed by SSH key SHA256:\S+, which trust.allowedSigners does not list/);
    expect(await headRefusal(repo, await commit(sshSign(keys.daemon)), trusted)).toBeUndefined();
    const pgp = await commit(['-c', 'gpg.format=openpgp', '-c', `user.signingKey=${gpgFingerprint}`, '-c', 'commit.gpgSign=true'], { GNUPGHOME: gpgHome });
    expect(await headRefusal(repo, pgp, trusted)).toBeUndefined();
    expect(await headRefusal(repo, pgp, { ...trusted, keys: { allowedSigners: trusted.keys!.allowedSigners } })).toMatch(/is signed by OpenPGP key [0-9A-F]+, which is not in trust.openpgpKeyring/);
    expect(await headRefusal(repo, unsigned, { requireSignedHead: false })).toBeUndefined();
    expect(gitIn(repo)).toBeDefined();
  });
});

async function fingerprint(key: string): Promise<string> {
  return (await sh(root, 'ssh-keygen', ['-l', '-f', `${key}.pub`])).split(' ')[1]!;
}
