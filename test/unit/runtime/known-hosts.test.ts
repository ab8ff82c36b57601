import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { knownHostKeys } from '../../../src/runtime/known-hosts.js';

const salt = Buffer.from('0123456789abcdef0123');
const hashed = (name: string) => `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;

describe('knownHostKeys', () => {
  it.each([
    ['plain host, port 22', 'deploy.example.com ssh-ed25519 KEY1\n', 'deploy.example.com', 22, ['KEY1']],
    ['bracketed host:port', '[127.0.0.1]:2222 ssh-ed25519 KEY2\n', '127.0.0.1', 2222, ['KEY2']],
    ['port 22 written without brackets only', '[127.0.0.1]:22 ssh-ed25519 KEY3\n', '127.0.0.1', 22, []],
    ['another port does not match', '[127.0.0.1]:2222 ssh-ed25519 KEY2\n', '127.0.0.1', 2223, []],
    ['comma-separated names', 'a.example,10.0.0.5 ssh-rsa KEY4 comment\n', '10.0.0.5', 22, ['KEY4']],
    ['hashed entry', `${hashed('[10.0.0.5]:2200')} ecdsa-sha2-nistp256 KEY5\n`, '10.0.0.5', 2200, ['KEY5']],
    ['hashed entry of another host', `${hashed('10.0.0.6')} ssh-ed25519 KEY6\n`, '10.0.0.5', 22, []],
    ['revoked and CA lines are not trusted', '@revoked h ssh-ed25519 BAD\n@cert-authority h ssh-ed25519 CA\n# h ssh-ed25519 C\n', 'h', 22, []],
    ['a malformed line is skipped', 'h\nh ssh-ed25519\nh ssh-ed25519 OK\n', 'h', 22, ['OK']],
  ])('%s', (_, text, host, port, keys) => {
    expect(knownHostKeys(text, host, port)).toEqual(keys);
  });
});
