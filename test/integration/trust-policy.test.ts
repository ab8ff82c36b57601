import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigRepo } from './helpers/cli.js';
import { BASE_IMAGE, freePort, removeByLabel, requireDocker, requireImage, uniqueName } from './helpers/docker.js';

let docker: Docker;
let repo: ConfigRepo;
let env: string;
let host: string;

beforeAll(async () => {
  docker = await requireDocker();
  await requireImage(docker);
});

beforeEach(async () => {
  env = uniqueName('trust').replace(/-/g, '');
  repo = await ConfigRepo.create(env);
  host = await mkdtemp(path.join(tmpdir(), 'stagecoach-host-'));
});

afterEach(async () => {
  await removeByLabel(docker, 'io.stagecoach.environment', env);
  await repo.dispose();
  await rm(host, { recursive: true, force: true });
});

const service = (extra: string) => `apiVersion: stagecoach/v1\nkind: Service\nname: web\nimage: ${BASE_IMAGE}\ninit: true\ncommand: ["sleep", "3600"]\nstop_grace_period: 1s\n${extra}`;

async function policyFile(text: string): Promise<string> {
  const file = path.join(host, 'policy.yaml');
  await writeFile(file, text);
  return file;
}

async function containers() {
  return docker.listContainers({ all: true, filters: { label: [`io.stagecoach.environment=${env}`] } });
}

describe('bind mounts follow links on the real host (finding 3)', () => {
  it('refuses a link under an allowed folder that leads to /, and mounts a real folder under it', async () => {
    const allowed = path.join(host, 'allowed');
    await mkdir(path.join(allowed, 'data'), { recursive: true });
    await symlink('/', path.join(allowed, 'root'));
    const policy = await policyFile(`environments:\n  - match: "${env}"\n    bindMounts: ["${allowed}"]\n`);
    await repo.write('environment.yaml', `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\npolicy:\n  bindMounts: ["${allowed}"]\n`);

    await repo.write('web.yaml', service(`volumes: ["${allowed}/root:/host:ro"]\n`));
    const refused = await repo.run('apply', ['--policy', policy]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`service web bind-mounts ${allowed}/root (which leads to /), which exposes the Docker engine: a host-level option the operator has not allowed (allow it in the daemon settings: policy.environments[0] (match "${env}").hostOptions: true)`);
    expect(await containers()).toEqual([]);

    await repo.write('web.yaml', service(`volumes: ["${allowed}/data:/data:ro"]\n`));
    const applied = await repo.run('apply', ['--policy', policy]);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const [running] = await containers();
    const info = await docker.getContainer(running!.Id).inspect();
    expect(info.Mounts.map((m) => [m.Source, m.Destination])).toEqual([[`${allowed}/data`, '/data']]);
  });

  it('with no operator settings, the repo’s own policy.bindMounts cannot mount the Docker socket', async () => {
    await repo.write('environment.yaml', `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\npolicy:\n  bindMounts: [/var/run]\n`);
    await repo.write('web.yaml', service('volumes: ["/var/run/docker.sock:/var/run/docker.sock"]\n'));
    const refused = await repo.run('apply', [], { STAGECOACH_POLICY: '' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('bind-mounts /var/run/docker.sock');
    expect(refused.stderr).toContain('policy.defaults.hostOptions: true');
    expect(await containers()).toEqual([]);
  });
});

describe('the repo cannot choose where secrets go (finding 1)', () => {
  let endpoint: Server;
  let seen: string[];
  let port: number;

  beforeEach(async () => {
    seen = [];
    port = await freePort();
    // A stand-in for an engine the repo points at: it records every request (a real engine would receive the create body with the secret).
    endpoint = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        res.writeHead(req.url?.endsWith('/_ping') ? 200 : 500, { 'content-type': 'text/plain', 'api-version': '1.41' });
        res.end(req.url?.endsWith('/_ping') ? 'OK' : '{"message":"stand-in"}');
      });
    });
    await new Promise<void>((r) => endpoint.listen(port, '127.0.0.1', r));
  });

  afterEach(async () => {
    endpoint.closeAllConnections();
    await new Promise((r) => endpoint.close(r));
  });

  it('refuses target.docker the operator did not allow, before a single request reaches it', async () => {
    await repo.write('environment.yaml', `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\ntarget:\n  docker: tcp://127.0.0.1:${port}\n`);
    await repo.write('web.yaml', service('environment:\n  DB_PASSWORD: { secret: db }\n'));
    const secrets = { STAGECOACH_SECRET_DB: 'hunter2-not-for-strangers' };
    for (const command of ['plan', 'apply'] as const) {
      const refused = await repo.run(command, [], secrets);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`/target/docker Docker endpoint tcp://127.0.0.1:${port} is not allowed for environment ${env} by the operator (allow it in the daemon settings: policy.defaults.dockerTargets; allowed now: default, unix:///var/run/docker.sock)`);
    }
    expect(seen).toEqual([]);

    // Once the operator allows it, the same environment does talk to that endpoint: the refusal above was the policy.
    const policy = await policyFile(`defaults:\n  dockerTargets: [default, "tcp://127.0.0.1:${port}"]\n`);
    await repo.run('apply', ['--policy', policy], secrets);
    expect(seen.length).toBeGreaterThan(0);
  });
});
