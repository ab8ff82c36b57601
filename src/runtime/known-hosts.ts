import { createHmac } from 'node:crypto';

/**
 * The keys an OpenSSH known_hosts text lists for host:port, plain or hashed
 * (`|1|salt|hmac`) entries alike; `@revoked` and `@cert-authority` lines are
 * not trusted here. Keys are the base64 blobs, as ssh-keyscan prints them.
 */
export function knownHostKeys(text: string, host: string, port: number): string[] {
  const name = port === 22 ? host : `[${host}]:${port}`;
  const keys: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('@')) continue;
    const [hosts, , key] = line.split(/\s+/);
    if (!hosts || !key) continue;
    if (hosts.split(',').some((pattern) => matches(pattern, name))) keys.push(key);
  }
  return keys;
}

function matches(pattern: string, name: string): boolean {
  if (!pattern.startsWith('|1|')) return pattern === name;
  const [, , salt, hash] = pattern.split('|');
  if (!salt || !hash) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}
