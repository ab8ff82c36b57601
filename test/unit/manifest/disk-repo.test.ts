import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diskRepo } from '../../../src/manifest/files.js';
import { loadRepo } from '../../../src/manifest/load.js';
import { formatProblem } from '../../../src/manifest/problem.js';
import { envYaml, serviceYaml, validators } from './support.js';

let root: string;
let outside: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'stagecoach-repo-'));
  outside = await mkdtemp(path.join(tmpdir(), 'stagecoach-outside-'));
  await mkdir(path.join(root, 'environments/testing'), { recursive: true });
  await writeFile(path.join(root, 'environments/testing/environment.yaml'), envYaml());
  await writeFile(path.join(outside, 'secrets.env'), 'API_KEY_ID=x\n');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

async function problems() {
  return (await loadRepo(diskRepo(root), validators)).problems.map(formatProblem);
}

describe('config repo on disk', () => {
  it('rejects an env_file that is a link leaving the repo', async () => {
    await writeFile(path.join(root, 'environments/testing/web.yaml'), serviceYaml('web', 'env_file: web.env\n'));
    await symlink(path.join(outside, 'secrets.env'), path.join(root, 'environments/testing/web.env'));
    expect(await problems()).toEqual([
      `environments/testing/web.yaml:5:11: /env_file names environments/testing/web.env, which is a link that leaves the config repo (to ${path.join(outside, 'secrets.env')})`,
    ]);
  });

  it('reads an env_file inside the repo, following links that stay inside', async () => {
    await writeFile(path.join(root, 'common.env'), 'COLOR=blue\n');
    await symlink('../../common.env', path.join(root, 'environments/testing/web.env'));
    await writeFile(path.join(root, 'environments/testing/web.yaml'), serviceYaml('web', 'env_file: [web.env, ../../common.env]\n'));
    const result = await loadRepo(diskRepo(root), validators);
    expect(result.problems).toEqual([]);
    expect(result.environments[0]!.loaded!.services[0]!.spec.environment).toEqual({ COLOR: 'blue' });
  });

  it('refuses a 5 MB manifest without parsing it', async () => {
    await writeFile(path.join(root, 'environments/testing/web.yaml'), serviceYaml('web'));
    await writeFile(path.join(root, 'environments/testing/huge.yaml'), `# ${'x'.repeat(5 * 1024 * 1024)}\n`);
    expect(await problems()).toEqual(['environments/testing/huge.yaml: file is 5.0 MiB, larger than the 1.0 MiB limit for a config repo file']);
  });

  it('finds manifests in sub-folders, .yml too', async () => {
    await mkdir(path.join(root, 'environments/testing/backend'));
    await writeFile(path.join(root, 'environments/testing/backend/api.yml'), serviceYaml('api'));
    const result = await loadRepo(diskRepo(root), validators);
    expect(result.environments[0]!.loaded!.services.map((s) => s.file)).toEqual(['environments/testing/backend/api.yml']);
  });
});

describe('binary files copied into containers', () => {
  const binary = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, ...Array.from({ length: 256 }, (_, i) => i)]);

  it('a relative bind and a config file keep every byte; the spec hash is over the bytes', async () => {
    await writeFile(path.join(root, 'environments/testing/environment.yaml'), envYaml('testing', 'configs:\n  blob: { file: blob.bin }\n'));
    await writeFile(path.join(root, 'environments/testing/blob.bin'), binary);
    await writeFile(path.join(root, 'environments/testing/logo.bin'), binary);
    await writeFile(path.join(root, 'environments/testing/web.yaml'), serviceYaml('web', 'volumes: ["./logo.bin:/assets/logo.bin:ro"]\nconfigs: [{ source: blob, target: /etc/blob.bin }]\n'));
    const result = await loadRepo(diskRepo(root), validators);
    expect(result.problems.map(formatProblem)).toEqual([]);
    const web = result.environments[0]!.loaded!.services[0]!;
    expect(web.fileContents?.['/assets/logo.bin']).toEqual(binary);
    expect(web.fileContents?.['/etc/blob.bin']).toEqual(binary);
    const digest = `sha256:${createHash('sha256').update(binary).digest('hex')}`;
    expect(web.spec.files?.map((f) => f.sha256)).toEqual([digest, digest]);
  });
});
