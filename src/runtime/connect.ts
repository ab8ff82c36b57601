// First: it keeps docker-modem and dockerode from loading ssh2 and grpc (deferred-modules.ts).
import './deferred-modules.js';
import type Modem from 'docker-modem';
import type Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DockerError } from '../errors.js';
import { errorText } from './docker-errors.js';
import { sshClientOptions, sshHint } from './ssh.js';
import { directReads } from './direct-reads.js';
import type { EngineConnection } from './direct-reads.js';
import type { EngineReads } from './engine-reads.js';

export interface TlsFiles { ca: string; cert: string; key: string }

const LOCAL_SOCKET = 'unix:///var/run/docker.sock';

/** A dockerode client for an environment's target, else DOCKER_HOST, else the local socket. */
export function dockerClientFor(endpoint: string | null, tls: TlsFiles | undefined, env: NodeJS.ProcessEnv): { docker: Docker; host: string } {
  const target = endpoint ?? env.DOCKER_HOST ?? LOCAL_SOCKET;
  const certDir = endpoint === null ? env.DOCKER_CERT_PATH : undefined;
  const files = tls ?? (certDir ? { ca: join(certDir, 'ca.pem'), cert: join(certDir, 'cert.pem'), key: join(certDir, 'key.pem') } : undefined);
  const options = clientOptions(target, files, env);
  const hint = failureHint(target, files, env);
  const modem = () => {
    const client = new (requireCjs('docker-modem') as typeof Modem)(options);
    explainFailures(client, hint);
    return client;
  };
  return { docker: lazyDockerode(modem, directReads(options as EngineConnection, hint)), host: target.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1@') };
}

const requireCjs = createRequire(import.meta.url);

const readsKey = Symbol('stagecoach.engineReads');

/** The direct engine reads a client from dockerClientFor carries (direct-reads.ts); undefined for any other client. */
export function directReadsOf(docker: Docker): EngineReads | undefined {
  return (docker as unknown as Record<symbol, EngineReads | undefined>)[readsKey];
}

/**
 * A dockerode client over `modem` that loads dockerode on first use, and the
 * modem on first use of `modem` (given as a function). DockerRuntime's
 * read-only calls go through `reads` when given (directReadsOf), else through
 * the modem (engine-reads.ts), so `plan` loads neither dockerode, which costs
 * 0.15–0.2 s of every start (it requires @grpc/grpc-js and protobufjs at
 * load), nor docker-modem.
 */
export function lazyDockerode(modem: Modem | (() => Modem), reads?: EngineReads): Docker {
  let real: Docker | undefined;
  let client: Modem | undefined;
  const modemNow = (): Modem => (client ??= typeof modem === 'function' ? modem() : modem);
  const load = (): Docker => (real ??= new (requireCjs('dockerode') as typeof Docker)({ modem: modemNow() } as Docker.DockerOptions));
  return new Proxy({} as Docker, {
    get(_target, property) {
      if (property === readsKey) return reads;
      if (property === 'modem') return modemNow();
      const docker = load();
      const value: unknown = Reflect.get(docker, property, docker);
      return typeof value === 'function' ? value.bind(docker) : value;
    },
  });
}

function clientOptions(target: string, tls: TlsFiles | undefined, env: NodeJS.ProcessEnv): Docker.DockerOptions {
  // Explicit undefineds: docker-modem otherwise fills these from process.env.DOCKER_HOST / DOCKER_CERT_PATH.
  const blank = { socketPath: undefined, host: undefined, port: undefined, protocol: undefined, ca: undefined, cert: undefined, key: undefined };
  if (target.startsWith('unix://')) return { ...blank, socketPath: target.slice('unix://'.length) || '/var/run/docker.sock' };
  let url: URL;
  try {
    url = new URL(target);
  } catch (cause) {
    throw new DockerError(`docker endpoint "${target}" is not a URL (expected unix:///path, tcp://host:port or ssh://user@host)`, { cause });
  }
  if (url.protocol === 'ssh:') return { ...blank, ...sshClientOptions(url, env) };
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DockerError(`docker endpoint "${target}" has an unsupported scheme ${url.protocol} (use unix://, tcp:// or ssh://)`);
  }
  const secure = tls !== undefined || url.protocol === 'https:';
  const port = url.port || (secure ? 2376 : 2375);
  if (!tls) return { ...blank, host: url.hostname, port, protocol: secure ? 'https' : 'http' };
  return { ...blank, host: url.hostname, port, protocol: 'https', ca: readTls(tls.ca, target), cert: readTls(tls.cert, target), key: readTls(tls.key, target) };
}

/** What to do about a TLS mismatch, naming the setting (target.tls) and its files. */
function tlsHint(message: string, target: string, tls: TlsFiles | undefined): string | undefined {
  if (/HTTP request to an HTTPS server/.test(message)) return `docker at ${target} requires TLS: set target.tls (ca, cert, key) in the environment's environment.yaml`;
  if (tls && /certificate|self.signed|SSL|TLS|alert/i.test(message)) {
    return `TLS with docker at ${target} failed (${message}): check target.tls — ca ${tls.ca} must sign the engine's certificate (which must name this host), cert ${tls.cert} and key ${tls.key} must be a client pair the engine's CA trusts`;
  }
  return undefined;
}

/** What to do about a connection failure to `target`, when there is something to say. */
function failureHint(target: string, tls: TlsFiles | undefined, env: NodeJS.ProcessEnv): (message: string) => string | undefined {
  return (message) => (target.startsWith('ssh://') ? sshHint(message, target, env) : target.startsWith('unix://') ? undefined : tlsHint(message, target, tls));
}

/** Rewrites connection failures as they leave docker-modem, so every operation's DockerError says what to fix. */
function explainFailures(client: Modem, hint: (message: string) => string | undefined): void {
  const modem = client as unknown as { dial(options: unknown, callback: (err: Error | null, data?: unknown) => void): unknown };
  const dial = modem.dial.bind(modem);
  modem.dial = (options, callback) =>
    dial(options, (err, data) => {
      const better = err ? hint(err.message) : undefined;
      callback(better ? Object.assign(new Error(better, { cause: err }), { code: (err as NodeJS.ErrnoException).code, statusCode: (err as { statusCode?: number }).statusCode }) : err, data);
    });
}

function readTls(path: string, target: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new DockerError(`docker at ${target}: cannot read TLS file ${path}: ${errorText(cause)}`, { cause });
  }
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  return join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json');
}
