import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { importCompose } from '../manifest/compose-import.js';
import { compileSchemas } from '../manifest/schemas.js';
import type { CliIo } from './io.js';
import { exitCodes } from './io.js';

export interface ImportComposeOptions {
  env: string;
  out?: string;
}

async function readIfFile(file: string): Promise<string | undefined> {
  const info = await stat(file).catch(() => undefined);
  return info?.isFile() ? readFile(file, 'utf8') : undefined;
}

/**
 * `stagecoach import-compose FILE --env NAME [--out DIR]`: writes the manifests,
 * lists the secrets to provide and what could not be carried. 0 all carried,
 * 1 written with things left out, 2 the compose file cannot be read.
 */
export async function importComposeCommand(file: string, options: ImportComposeOptions, io: CliIo): Promise<number> {
  const composePath = path.resolve(io.cwd, file);
  const text = await readIfFile(composePath);
  if (text === undefined) {
    io.err(`stagecoach import-compose: ${composePath} is not a readable file`);
    return exitCodes.error;
  }
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(options.env)) {
    io.err(`stagecoach import-compose: --env must be lowercase letters, digits, '-' or '_' (got ${JSON.stringify(options.env)})`);
    return exitCodes.error;
  }
  const dir = path.dirname(composePath);
  const result = await importCompose(
    {
      file,
      text,
      env: options.env,
      dotenv: await readIfFile(path.join(dir, '.env')),
      readRelative: (relative) => {
        const full = path.resolve(dir, relative);
        return full.startsWith(dir + path.sep) ? readIfFile(full) : Promise.resolve(undefined);
      },
    },
    compileSchemas(),
  );
  if (result.fatal) {
    io.err(`stagecoach import-compose: ${result.fatal}`);
    return exitCodes.error;
  }
  const out = path.resolve(io.cwd, options.out ?? '.');
  for (const [rel, content] of Object.entries(result.files)) {
    const target = path.join(out, ...rel.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
    io.out(`wrote ${rel}`);
  }
  if (result.secrets.length) {
    io.out(`secrets to provide on the daemon host (a file in STAGECOACH_SECRETS_DIR, or STAGECOACH_SECRET_<NAME>):`);
    for (const name of result.secrets) io.out(`  ${name}`);
  }
  if (result.variables.length) io.out(`variables to set in environments/${options.env}/.env: ${result.variables.join(', ')}`);
  if (result.dropped.length) {
    io.out('not carried:');
    for (const d of result.dropped) io.out(`  ${d.service ? `${d.service}: ` : ''}${d.field}: ${d.reason}`);
  }
  return result.dropped.length || result.variables.length ? exitCodes.failed : exitCodes.ok;
}
