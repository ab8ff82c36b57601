import type Docker from 'dockerode';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { knownHostKeys } from './known-hosts.js';
import { SshDialAgent } from './ssh-transport.js';

/** Keys tried when no ssh-agent holds one, as the ssh command does (unencrypted only). */
const defaultIdentities = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

function sshDir(env: NodeJS.ProcessEnv): string {
  return join(env.HOME ?? homedir(), '.ssh');
}

/**
 * docker-modem options for ssh://user@host[:port]: requests run through
 * `docker system dial-stdio` on the remote host. Keys come from the ssh-agent
 * (SSH_AUTH_SOCK), else ~/.ssh/id_*. The host key must be in
 * ~/.ssh/known_hosts, as `ssh` with StrictHostKeyChecking would ask: an
 * unknown or changed host key is refused, never trusted on first use.
 */
export function sshClientOptions(url: URL, env: NodeJS.ProcessEnv): Docker.DockerOptions {
  const port = Number(url.port || 22);
  const knownHosts = join(sshDir(env), 'known_hosts');
  const identity = defaultIdentities.map((name) => join(sshDir(env), name)).find((file) => existsSync(file));
  const agent = new SshDialAgent({
    host: url.hostname,
    port,
    username: decodeURIComponent(url.username) || env.USER,
    ...(env.SSH_AUTH_SOCK ? { agent: env.SSH_AUTH_SOCK } : {}),
    ...(identity && !env.SSH_AUTH_SOCK ? { privateKey: readFileSync(identity) } : {}),
    hostVerifier: (key: Buffer) => {
      const text = existsSync(knownHosts) ? readFileSync(knownHosts, 'utf8') : '';
      return knownHostKeys(text, url.hostname, port).includes(key.toString('base64'));
    },
  });
  // Plain HTTP over our agent: each connection is a dial-stdio channel of one shared ssh connection.
  return { protocol: 'http', host: url.hostname, port, agent } as Docker.DockerOptions;
}

/** ssh2's terse failures, said with the host, the file and the fix; undefined when there is nothing to add. */
export function sshHint(message: string, target: string, env: NodeJS.ProcessEnv): string | undefined {
  const url = new URL(target);
  const knownHosts = join(sshDir(env), 'known_hosts');
  const port = url.port || '22';
  if (/Host denied/.test(message)) {
    return `the ssh host key of ${url.hostname}:${port} is not in ${knownHosts}, or differs from it: check the key, then add it (ssh-keyscan -p ${port} ${url.hostname} >> ${knownHosts})`;
  }
  if (/authentication methods failed/.test(message)) {
    return `ssh to ${target} refused every key offered (ssh-agent at SSH_AUTH_SOCK=${env.SSH_AUTH_SOCK ?? 'unset'}, else ${join(sshDir(env), 'id_*')}): authorize the daemon's key for ${url.username || env.USER} there`;
  }
  if (/Failed to connect to agent/.test(message)) return `cannot reach the ssh-agent at SSH_AUTH_SOCK=${env.SSH_AUTH_SOCK} for ${target}: start one and add the key (ssh-add), or unset SSH_AUTH_SOCK to use ${join(sshDir(env), 'id_*')}`;
  if (/dial-stdio|command not found/.test(message)) return `${message} (the remote host needs a docker CLI that runs \`docker system dial-stdio\`)`;
  return undefined;
}
