// A second Docker engine on loopback, reachable three ways: its own unix
// socket, tcp:// with client TLS, and ssh:// through an sshd on loopback.
// Everything is made by the test: TLS certificates (openssl), the ssh keys
// (ssh-keygen), an ssh-agent holding the client key, the engine's own bridge,
// data root, exec root and pid file. Nothing of the main engine is touched:
// the bridge is our own (never `--bridge none`, which deletes docker0) and
// iptables are left alone.
import Docker from 'dockerode';
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BASE_IMAGE, freePort, waitFor } from './docker.js';

const run = promisify(execFile);

export interface TlsFiles { ca: string; cert: string; key: string }

export class RemoteEngine {
  /** The engine's local socket (for the test's own checks). */
  readonly docker: Docker;
  /** tcp://127.0.0.1:PORT, TLS required. */
  readonly tcpUrl: string;
  /** ssh://root@127.0.0.1:PORT, key in the ssh-agent at sshAuthSock, host key in knownHosts. */
  readonly sshUrl: string;
  readonly clientTls: TlsFiles;
  /** Environment a client needs for the ssh path: the agent and a HOME whose ~/.ssh/known_hosts knows the sshd. */
  readonly sshEnv: Record<string, string>;

  private constructor(
    readonly dir: string,
    readonly socket: string,
    readonly bridge: string,
    readonly pool: string,
    tcpPort: number,
    sshPort: number,
    private readonly dockerd: ChildProcess,
    private readonly sshd: ChildProcess,
    private readonly agentPid: number,
    private readonly log: { text: string },
    sshAuthSock: string,
  ) {
    this.docker = new Docker({ socketPath: socket });
    this.tcpUrl = `tcp://127.0.0.1:${tcpPort}`;
    this.sshUrl = `ssh://root@127.0.0.1:${sshPort}`;
    this.clientTls = { ca: path.join(dir, 'tls/ca.pem'), cert: path.join(dir, 'tls/client.pem'), key: path.join(dir, 'tls/client-key.pem') };
    this.sshEnv = { SSH_AUTH_SOCK: sshAuthSock, HOME: path.join(dir, 'home') };
  }

  static async start(): Promise<RemoteEngine> {
    const dir = await mkdtemp(path.join(tmpdir(), 'sc-engine-'));
    const id = randomBytes(3).toString('hex');
    const bridge = `scbr${id}`;
    const octet = 100 + (parseInt(id.slice(0, 2), 16) % 50);
    const [tcpPort, sshPort] = [await freePort(), await freePort()];
    await makeCertificates(path.join(dir, 'tls'));
    await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await run('ip', ['addr', 'add', `10.${octet}.${parseInt(id.slice(2, 4), 16)}.1/24`, 'dev', bridge]);
    await run('ip', ['link', 'set', bridge, 'up']);
    // The host's FORWARD policy (DROP, set by the main engine) also filters
    // bridged frames; with --iptables=false this engine adds no rule of its own,
    // so containers on its networks could not reach each other. Allow exactly
    // its address pool, nothing else.
    const pool = `10.${octet + 50}.0.0/16`;
    await allowPool('-I', pool);
    const socket = path.join(dir, 'docker.sock');
    const log = { text: '' };
    const tls = path.join(dir, 'tls');
    const dockerd = spawn('dockerd', [
      '-H', `unix://${socket}`, '-H', `tcp://127.0.0.1:${tcpPort}`,
      '--tlsverify', '--tlscacert', `${tls}/ca.pem`, '--tlscert', `${tls}/server.pem`, '--tlskey', `${tls}/server-key.pem`,
      '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec'), '--pidfile', path.join(dir, 'docker.pid'),
      '--bridge', bridge, '--iptables=false', '--ip-masq=false',
      '--default-address-pool', `base=${pool.replace('/16', '/17')},size=24`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    dockerd.stdout!.on('data', (d: Buffer) => (log.text += d.toString()));
    dockerd.stderr!.on('data', (d: Buffer) => (log.text += d.toString()));
    const docker = new Docker({ socketPath: socket });
    const exited = new Promise<never>((_, reject) => dockerd.once('exit', () => reject(new Error(`the second dockerd exited:\n${log.text.slice(-2000)}`))));
    exited.catch(() => undefined);
    try {
      await Promise.race([exited, waitFor(() => docker.ping().then(() => true), { timeoutMs: 30_000, intervalMs: 200, what: 'the second dockerd to answer' })]);
      const ssh = await startSshd(dir, sshPort, socket);
      return new RemoteEngine(dir, socket, bridge, pool, tcpPort, sshPort, dockerd, ssh.sshd, ssh.agentPid, log, ssh.authSock);
    } catch (error) {
      if (dockerd.exitCode === null) dockerd.kill('SIGTERM');
      await run('ip', ['link', 'del', bridge]).catch(() => undefined);
      await allowPool('-D', pool);
      throw error;
    }
  }

  /** Copies images from the main engine (images are not shared between engines). */
  async copyImages(from: Docker, refs: string[] = [BASE_IMAGE]): Promise<void> {
    for (const ref of refs) {
      const stream = await from.getImage(ref).get();
      const out = await this.docker.loadImage(stream);
      await new Promise((resolve, reject) => this.docker.modem.followProgress(out, (e: Error | null) => (e ? reject(e) : resolve(undefined))));
    }
  }

  /** Makes this engine a single-node Swarm manager on loopback, on ports of its own (never the main engine's). */
  async initSwarm(): Promise<void> {
    const [listen, dataPath] = [await freePort(), 10_000 + Math.floor(Math.random() * 30_000)];
    await this.docker.swarmInit({ ListenAddr: `127.0.0.1:${listen}`, AdvertiseAddr: `127.0.0.1:${listen}`, DataPathPort: dataPath, DefaultAddrPool: [this.pool.replace('.0.0/16', '.128.0/17')], SubnetSize: 24 } as unknown as Record<string, unknown>);
  }

  get output(): string {
    return this.log.text;
  }

  async stop(): Promise<void> {
    // The engine's networks are kernel bridges in the host's namespace: remove them while it still answers.
    await this.docker.swarmLeave({ force: true }).catch(() => undefined);
    for (const c of await this.docker.listContainers({ all: true }).catch(() => [])) await this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    for (const n of await this.docker.listNetworks().catch(() => [])) {
      if (!['bridge', 'host', 'none'].includes(n.Name)) await this.docker.getNetwork(n.Id).remove().catch(() => undefined);
    }
    this.sshd.kill('SIGTERM');
    try { process.kill(this.agentPid, 'SIGTERM'); } catch { /* gone already */ }
    const pid = Number(await readFile(path.join(this.dir, 'docker.pid'), 'utf8').catch(() => String(this.dockerd.pid)));
    if (this.dockerd.exitCode === null) {
      const exited = new Promise((resolve) => this.dockerd.once('exit', resolve));
      try { process.kill(pid, 'SIGTERM'); } catch { /* gone already */ }
      await exited;
    }
    // The engine mounts its netns folder (and overlay layers) under exec/data root: unmount before deleting.
    const { stdout } = await run('sh', ['-c', `grep -o " ${this.dir}[^ ]*" /proc/self/mounts || true`]);
    for (const mount of stdout.split('\n').map((s) => s.trim()).filter(Boolean).reverse()) await run('umount', ['-l', mount]).catch(() => undefined);
    await run('ip', ['link', 'del', this.bridge]).catch(() => undefined);
    await allowPool('-D', this.pool);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Adds (-I) or deletes (-D) the rule letting this engine's own subnets talk to each other (DOCKER-USER when the main engine made it). */
async function allowPool(op: '-I' | '-D', pool: string): Promise<void> {
  const rule = ['-s', pool, '-d', pool, '-j', 'ACCEPT', '-m', 'comment', '--comment', 'stagecoach test engine'];
  const chain = await run('iptables', ['-n', '-L', 'DOCKER-USER']).then(() => 'DOCKER-USER', () => 'FORWARD');
  await run('iptables', [op, chain, ...rule]).catch((error: unknown) => {
    if (op === '-I') throw error;
  });
}

async function makeCertificates(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const ssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await ssl('req', '-x509', ...key, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=stagecoach test CA');
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'], ['client', 'extendedKeyUsage=clientAuth\n']] as const) {
    await writeFile(path.join(dir, `${name}.ext`), ext);
    await ssl('req', ...key, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name === 'server' ? '127.0.0.1' : 'stagecoach'}`);
    await ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  }
}

/**
 * sshd on loopback whose one authorized key may only run `docker system
 * dial-stdio` against the second engine (a forced command), the client key in
 * a fresh ssh-agent, and a known_hosts holding the sshd's host key.
 */
async function startSshd(dir: string, port: number, socket: string): Promise<{ sshd: ChildProcess; agentPid: number; authSock: string }> {
  const ssh = path.join(dir, 'ssh');
  const home = path.join(dir, 'home');
  await mkdir(ssh, { recursive: true });
  await mkdir(path.join(home, '.ssh'), { recursive: true });
  await mkdir('/run/sshd', { recursive: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(ssh, 'host_key')]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(ssh, 'client_key')]);
  const clientPub = (await readFile(path.join(ssh, 'client_key.pub'), 'utf8')).trim();
  await writeFile(path.join(ssh, 'authorized_keys'), `command="docker -H unix://${socket} system dial-stdio",restrict ${clientPub}\n`, { mode: 0o600 });
  const hostPub = (await readFile(path.join(ssh, 'host_key.pub'), 'utf8')).trim().split(' ').slice(0, 2).join(' ');
  await writeFile(path.join(home, '.ssh/known_hosts'), `[127.0.0.1]:${port} ${hostPub}\n`);
  const sshd = spawn('/usr/sbin/sshd', [
    '-D', '-e', '-p', String(port), '-o', 'ListenAddress=127.0.0.1', '-h', path.join(ssh, 'host_key'),
    '-o', `AuthorizedKeysFile=${path.join(ssh, 'authorized_keys')}`, '-o', `PidFile=${path.join(ssh, 'sshd.pid')}`,
    '-o', 'StrictModes=no', '-o', 'UsePAM=no', '-o', 'PasswordAuthentication=no', '-o', 'PermitRootLogin=prohibit-password',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  sshd.stderr!.on('data', (d: Buffer) => (errors += d.toString()));
  const authSock = path.join(ssh, 'agent.sock');
  const agent = await run('ssh-agent', ['-s', '-a', authSock]);
  const agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1]);
  await run('ssh-add', [path.join(ssh, 'client_key')], { env: { ...process.env, SSH_AUTH_SOCK: authSock } });
  await waitFor(
    () => run('ssh-keyscan', ['-p', String(port), '127.0.0.1']).then((r) => (r.stdout.includes('ssh-ed25519') ? true : undefined), () => (sshd.exitCode !== null ? Promise.reject(new Error(`sshd exited: ${errors}`)) : undefined)),
    { timeoutMs: 10_000, intervalMs: 100, what: 'sshd to listen' },
  );
  return { sshd, agentPid, authSock };
}
