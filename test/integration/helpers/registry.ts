// Real registries for integration tests: Debian's docker-registry on
// 127.0.0.1 (no auth, htpasswd basic auth, or token auth with a small token
// issuer made here), images pushed by the real engine so tags and digests are
// the registry's own. Each registry has its own port and storage folder and
// is stopped by its pid.
import bcrypt from 'bcryptjs';
import type Docker from 'dockerode';
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSign, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BASE_IMAGE, freePort, waitFor } from './docker.js';

const run = promisify(execFile);

export type RegistryAuthMode = 'none' | 'basic' | 'token';

export interface RegistryUser {
  username: string;
  password: string;
}

export class LocalRegistry {
  private constructor(
    readonly host: string,
    readonly auth: RegistryAuthMode,
    readonly user: RegistryUser,
    private readonly dir: string,
    private readonly process: ChildProcess,
    private readonly tokenServer: Server | undefined,
    private log: () => string,
  ) {}

  /** Starts `docker-registry serve` on a free loopback port; `token` also starts an issuer on another port. */
  static async start(auth: RegistryAuthMode = 'none', user: RegistryUser = { username: 'ci', password: `pw-${randomBytes(6).toString('hex')}` }): Promise<LocalRegistry> {
    const dir = await mkdtemp(path.join(tmpdir(), 'stagecoach-registry-'));
    const port = await freePort();
    let authBlock = '';
    let tokenServer: Server | undefined;
    if (auth === 'basic') {
      await writeFile(path.join(dir, 'htpasswd'), `${user.username}:${bcrypt.hashSync(user.password, 8)}\n`);
      authBlock = `auth:\n  htpasswd:\n    realm: stagecoach-test\n    path: ${path.join(dir, 'htpasswd')}\n`;
    }
    if (auth === 'token') {
      await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=stagecoach-test-issuer']);
      const tokenPort = await freePort();
      tokenServer = await startTokenIssuer(tokenPort, user, await readFile(path.join(dir, 'key.pem'), 'utf8'), await readFile(path.join(dir, 'cert.pem'), 'utf8'));
      authBlock = `auth:\n  token:\n    realm: http://127.0.0.1:${tokenPort}/token\n    service: stagecoach-test\n    issuer: stagecoach-test-issuer\n    rootcertbundle: ${path.join(dir, 'cert.pem')}\n`;
    }
    const config = `version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: ${path.join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
  secret: ${randomBytes(16).toString('hex')}
${authBlock}`;
    await writeFile(path.join(dir, 'config.yml'), config);
    const child = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    const registry = new LocalRegistry(`127.0.0.1:${port}`, auth, user, dir, child, tokenServer, () => output);
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`docker-registry exited ${child.exitCode}: ${output}`);
      const res = await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => undefined);
      return res !== undefined && (res.status === 200 || res.status === 401);
    }, { timeoutMs: 15_000, intervalMs: 100, what: `docker-registry on 127.0.0.1:${port}` });
    return registry;
  }

  /** What the engine needs to push here. */
  authconfig(): { username: string; password: string; serveraddress: string } | undefined {
    return this.auth === 'none' ? undefined : { ...this.user, serveraddress: this.host };
  }

  /** A Docker config file (`auths`) for this registry, with the given password. */
  async dockerConfig(password = this.user.password): Promise<string> {
    const file = path.join(this.dir, `config-${randomBytes(4).toString('hex')}.json`);
    await writeFile(file, JSON.stringify({ auths: { [this.host]: { auth: Buffer.from(`${this.user.username}:${password}`).toString('base64') } } }));
    return file;
  }

  /**
   * Tags `source` as HOST/REPO:TAG, pushes it with the engine, removes the
   * local tag again, and returns the digest the registry reported.
   */
  async push(docker: Docker, repoTag: string, source: string = BASE_IMAGE): Promise<string> {
    const [repo, tag] = repoTag.split(':') as [string, string];
    const name = `${this.host}/${repo}`;
    await docker.getImage(source).tag({ repo: name, tag });
    try {
      const stream = await docker.getImage(`${name}:${tag}`).push({ authconfig: this.authconfig() ?? {} } as object);
      const events = await new Promise<{ error?: string; aux?: { Digest?: string } }[]>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, out: unknown[]) => (err ? reject(err) : resolve(out as never))));
      const failed = events.find((e) => e.error);
      if (failed) throw new Error(`push ${name}:${tag} failed: ${failed.error}\nregistry log: ${this.log()}`);
      const digest = events.find((e) => e.aux?.Digest)?.aux?.Digest;
      if (!digest) throw new Error(`push ${name}:${tag} reported no digest`);
      return digest;
    } finally {
      await docker.getImage(`${name}:${tag}`).remove({ noprune: true }).catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    if (this.process.exitCode === null) {
      const exited = new Promise((resolve) => this.process.once('exit', resolve));
      this.process.kill('SIGTERM');
      await exited;
    }
    await new Promise((resolve) => (this.tokenServer ? this.tokenServer.close(resolve) : resolve(undefined)));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * A token issuer as the distribution token spec describes: Basic credentials
 * in, a JWT signed with the key whose certificate the registry trusts
 * (x5c header), granting the scope asked for.
 */
async function startTokenIssuer(port: number, user: RegistryUser, keyPem: string, certPem: string): Promise<Server> {
  const der = Buffer.from(certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
  const expected = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"wrong user or password"}');
      return;
    }
    const access = url.searchParams.getAll('scope').flatMap((s) => {
      const [type, name, actions] = s.split(':');
      return type && name && actions ? [{ type, name, actions: actions.split(',') }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [der.toString('base64')] };
    const claims = { iss: 'stagecoach-test-issuer', sub: user.username, aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(keyPem);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${input}.${b64url(signature)}`, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

/** A small image that differs from the base by a label, so it has its own digest; removed by the caller. */
export async function variantImage(docker: Docker, name: string, label: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'stagecoach-variant-'));
  try {
    await writeFile(path.join(dir, 'Dockerfile'), `FROM ${BASE_IMAGE}\nLABEL io.stagecoach.test.variant="${label}"\n`);
    const stream = await docker.buildImage({ context: dir, src: ['Dockerfile'] }, { t: name });
    const events = await new Promise<{ error?: string }[]>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, out: unknown[]) => (err ? reject(err) : resolve(out as never))));
    const failed = events.find((e) => e.error);
    if (failed) throw new Error(`build ${name} failed: ${failed.error}`);
    return name;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
