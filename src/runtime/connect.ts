import Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DockerError } from '../errors.js';
import { errorText } from './docker-errors.js';

export interface TlsFiles { ca: string; cert: string; key: string }

const LOCAL_SOCKET = 'unix:///var/run/docker.sock';

/** A dockerode client for an environment's target, else DOCKER_HOST, else the local socket. */
export function dockerClientFor(endpoint: string | null, tls?: TlsFiles, env: NodeJS.ProcessEnv = process.env): { docker: Docker; host: string } {
  const target = endpoint ?? env.DOCKER_HOST ?? LOCAL_SOCKET;
  const certDir = endpoint === null ? env.DOCKER_CERT_PATH : undefined;
  const files = tls ?? (certDir ? { ca: join(certDir, 'ca.pem'), cert: join(certDir, 'cert.pem'), key: join(certDir, 'key.pem') } : undefined);
  return { docker: new Docker(clientOptions(target, files, env)), host: target.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1@') };
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
  if (url.protocol === 'ssh:') {
    return { ...blank, protocol: 'ssh', host: url.hostname, port: url.port || 22, username: decodeURIComponent(url.username) || env.USER, sshOptions: { agent: env.SSH_AUTH_SOCK } };
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DockerError(`docker endpoint "${target}" has an unsupported scheme ${url.protocol} (use unix://, tcp:// or ssh://)`);
  }
  const secure = tls !== undefined || url.protocol === 'https:';
  const port = url.port || (secure ? 2376 : 2375);
  if (!tls) return { ...blank, host: url.hostname, port, protocol: secure ? 'https' : 'http' };
  return { ...blank, host: url.hostname, port, protocol: 'https', ca: readTls(tls.ca, target), cert: readTls(tls.cert, target), key: readTls(tls.key, target) };
}

function readTls(path: string, target: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new DockerError(`docker at ${target}: cannot read TLS file ${path}: ${errorText(cause)}`, { cause });
  }
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json');
}
