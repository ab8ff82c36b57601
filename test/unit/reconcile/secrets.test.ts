import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostSecrets, resolveSecretFiles } from '../../../src/reconcile/secrets.js';
import type { SecretSource } from '../../../src/reconcile/secrets.js';

// Bytes no UTF-8 decoder gives back: a DER/PKCS#12 file starts like this.
const binary = Buffer.from([0x30, 0x82, 0x01, 0xff, 0x00, 0xc3, 0x28, 0x0a]);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stagecoach-secrets-'));
  await mkdir(path.join(dir, 'secrets'));
  await writeFile(path.join(dir, 'secrets', 'keystore'), binary);
  await writeFile(path.join(dir, 'secrets', 'db_password'), 's3cret\n');
  await writeFile(path.join(dir, 'secrets', 'crlf'), 'pw\r\n');
  await writeFile(path.join(dir, 'outside'), 'host file\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('host secrets as text (environment variables) and as bytes (compose secrets, which are files)', () => {
  it.each([
    ['a file with a trailing newline', 'db_password', 's3cret', Buffer.from('s3cret\n')],
    ['a file ending in CRLF', 'crlf', 'pw', Buffer.from('pw\r\n')],
    ['a binary file', 'keystore', binary.toString('utf8').replace(/\r?\n$/, ''), binary],
    ['only in the environment', 'api_token', 'from-env', Buffer.from('from-env')],
    ['set nowhere', 'nothing', undefined, undefined],
    ['a path outside the folder', '../outside', undefined, undefined],
  ])('%s', (_, name, text, bytes) => {
    const secrets = hostSecrets(path.join(dir, 'secrets'), { STAGECOACH_SECRET_API_TOKEN: 'from-env' });
    expect(secrets(name)).toEqual(text);
    expect(secrets.bytes?.(name)).toEqual(bytes);
  });

  it('a file wins over the environment in both forms', () => {
    const secrets = hostSecrets(path.join(dir, 'secrets'), { STAGECOACH_SECRET_DB_PASSWORD: 'from-env' });
    expect(secrets('db_password')).toBe('s3cret');
    expect(secrets.bytes?.('db_password')).toEqual(Buffer.from('s3cret\n'));
  });

  it('without a secrets folder, only the environment answers', () => {
    const secrets = hostSecrets(undefined, { STAGECOACH_SECRET_DB_PASSWORD: 'from-env' });
    expect(secrets('db_password')).toBe('from-env');
    expect(secrets.bytes?.('db_password')).toEqual(Buffer.from('from-env'));
  });
});

describe('resolveSecretFiles', () => {
  it('gives each file its bytes exactly, by its path in the container', () => {
    const secrets = hostSecrets(path.join(dir, 'secrets'), {});
    expect(resolveSecretFiles({ '/run/secrets/keystore': 'keystore', '/etc/app/pw': 'db_password' }, secrets, 'testing/web')).toEqual({
      '/run/secrets/keystore': binary,
      '/etc/app/pw': Buffer.from('s3cret\n'),
    });
  });

  it('encodes the text of a source that has no bytes form', () => {
    const secrets: SecretSource = (name) => `value-of-${name}`;
    expect(resolveSecretFiles({ '/run/secrets/a': 'a' }, secrets, 'testing/web')).toEqual({ '/run/secrets/a': Buffer.from('value-of-a') });
  });

  it('names every missing secret once, and where to set it', () => {
    const secrets = hostSecrets(path.join(dir, 'secrets'), {});
    expect(() => resolveSecretFiles({ '/a': 'missing_one', '/b': 'db_password', '/c': 'missing_two', '/d': 'missing_one' }, secrets, 'testing/web')).toThrow(
      'testing/web: secrets not set on the daemon host: missing_one (a file named missing_one in STAGECOACH_SECRETS_DIR, or STAGECOACH_SECRET_MISSING_ONE); missing_two (a file named missing_two in STAGECOACH_SECRETS_DIR, or STAGECOACH_SECRET_MISSING_TWO)',
    );
  });
});
