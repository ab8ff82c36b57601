// A second engine as a single-node Swarm manager, so the main engine that
// other tests share never joins or leaves a Swarm, and an operator policy
// that allows its socket (by default only the local endpoint is allowed).
import type Docker from 'dockerode';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigRepo } from './cli.js';
import { uniqueName } from './docker.js';
import { RemoteEngine } from './remote-engine.js';

export interface SwarmManager {
  engine: RemoteEngine;
  /** Holds policy.yaml (and whatever else the test puts there). */
  policyDir: string;
  /** The operator policy allowing the manager's socket: STAGECOACH_POLICY. */
  policy: string;
}

/** Starts the engine, copies `images` from the main engine, makes it a Swarm manager and writes the policy. */
export async function startSwarmManager(main: Docker, images: string[]): Promise<SwarmManager> {
  const engine = await RemoteEngine.start();
  await engine.copyImages(main, images);
  await engine.initSwarm();
  const policyDir = await mkdtemp(path.join(tmpdir(), 'stagecoach-policy-'));
  const policy = path.join(policyDir, 'policy.yaml');
  await writeFile(policy, `defaults:\n  dockerTargets: [default, "unix:///var/run/docker.sock", "unix://${engine.socket}"]\n`);
  return { engine, policyDir, policy };
}

/** Removes what an environment made on the Swarm: services, secrets and configs carrying its label. */
export async function removeSwarmEnvironment(engine: RemoteEngine, env: string): Promise<void> {
  const label = [`io.stagecoach.environment=${env}`];
  const docker = engine.docker;
  for (const s of await docker.listServices({ filters: { label } })) await docker.getService(s.ID!).remove().catch(() => undefined);
  for (const s of await docker.listSecrets({ filters: { label } })) await docker.getSecret(s.ID).remove().catch(() => undefined);
  for (const c of (await docker.listConfigs({ filters: { label } })) as { ID: string }[]) await docker.getConfig(c.ID).remove().catch(() => undefined);
}

/** A config repo whose environment targets the manager as a Swarm; `cleanup` gets what removes it again. */
export async function swarmConfigRepo(engine: RemoteEngine, prefix: string, extra: string, cleanup: (() => Promise<void>)[]): Promise<ConfigRepo> {
  const env = uniqueName(prefix).replace(/-/g, '');
  const repo = await ConfigRepo.create(env, `target:\n  docker: unix://${engine.socket}\n  mode: swarm\n${extra}`);
  cleanup.push(async () => {
    await removeSwarmEnvironment(engine, env);
    await repo.dispose();
  });
  return repo;
}
