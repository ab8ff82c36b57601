import { spawn } from 'node:child_process';
import { RegistryError } from '../errors.js';
import type { CredentialHelper } from './credentials.js';

const notFound = /credentials not found|not found in native keychain|no credentials/i;

/**
 * The docker-credential-helpers protocol: `docker-credential-<name> get`
 * reads the server address on stdin and prints `{"Username","Secret"}`.
 * `env` is the environment helpers run with (the daemon's: PATH to find
 * them, HOME and cloud variables some of them read); default a plain PATH.
 */
export function processCredentialHelper(options: { env?: Record<string, string | undefined>; timeoutMs?: number } = {}): CredentialHelper {
  return (helper, serverAddress) => {
    if (!/^[A-Za-z0-9_.-]+$/.test(helper)) {
      return Promise.reject(new RegistryError(`registry credentials: helper name "${helper}" in the Docker config is not a plain name; fix credsStore/credHelpers on the daemon host`));
    }
    const program = `docker-credential-${helper}`;
    return new Promise((resolve, reject) => {
      const child = spawn(program, ['get'], { env: options.env ?? { PATH: '/usr/local/bin:/usr/bin:/bin' }, stdio: ['pipe', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 10_000 });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
      child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
      child.on('error', (cause: NodeJS.ErrnoException) => {
        const why = cause.code === 'ENOENT' ? `${program} is not installed on the daemon host (the Docker config names it)` : cause.message;
        reject(new RegistryError(`registry credentials for ${serverAddress}: ${why}`, { cause }));
      });
      child.on('close', (code, signal) => {
        // Helpers print "credentials not found" on stdout or stderr, depending on the helper.
        if (code !== 0) {
          if (notFound.test(out) || notFound.test(err)) return resolve(undefined);
          const detail = signal ? `was killed (${signal})` : `exited ${code}`;
          return reject(new RegistryError(`registry credentials for ${serverAddress}: ${program} get ${detail}: ${(err || out).trim().slice(0, 200)}`, { transient: signal !== null }));
        }
        try {
          const parsed = JSON.parse(out) as { Username?: unknown; Secret?: unknown };
          if (typeof parsed.Secret !== 'string' || parsed.Secret === '') return resolve(undefined);
          resolve({ Username: typeof parsed.Username === 'string' ? parsed.Username : '', Secret: parsed.Secret });
        } catch (cause) {
          reject(new RegistryError(`registry credentials for ${serverAddress}: ${program} get printed something that is not the helper protocol's JSON`, { cause }));
        }
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(serverAddress);
    });
  };
}
