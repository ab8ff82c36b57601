import { stableStringify } from '../manifest/hash.js';
import type { LoadedEnvironment, ServiceManifest } from '../manifest/types.js';
import { managedLabels } from '../reconcile/container-spec.js';
import type { SecretSource } from '../reconcile/secrets.js';
import { resolveEnvironment } from '../reconcile/secrets.js';
import { labels, networkName, volumeName } from '../runtime/labels.js';
import type { ServiceBody } from './types.js';
import { hostOptionsOf } from '../policy/host-options.js';
import { isJobMode, modeBody, placementBody, resourcesBody, rollbackOrder, swarmModeOf, updatePolicyBody } from './deploy-spec.js';
import { fileReferences, swarmFiles } from './swarm-files.js';
import { unhonouredOptions } from './options.js';

const ns = 1_000_000;

/** The replica count stagecoach last applied, so a change in git and a change by hand are told apart. */
export const replicasLabel = 'io.stagecoach.replicas';

/** A Service manifest field a Swarm target cannot honour, with the reason: refused, never ignored. */
export interface Refusal {
  service: string;
  file: string;
  field: string;
  reason: string;
}

/** Everything of an environment's services that a Swarm target would have to ignore; empty when all of it reaches Swarm. */
export function swarmRefusals(env: LoadedEnvironment): Refusal[] {
  const out: Refusal[] = [];
  for (const s of env.services) {
    const refuse = (field: string, reason: string) => out.push({ service: s.name, file: s.file, field, reason });
    s.spec.ports.forEach((p, i) => {
      if (p.hostIp !== '' && p.hostIp !== '0.0.0.0') refuse(`ports[${i}]`, `Swarm publishes on every address of a node; it cannot bind ${p.hostIp} only (drop the address, or use an engine target)`);
    });
    if (Object.keys(s.dependsOn).length > 0) refuse('depends_on', 'Swarm starts services independently and has no depends_on; rely on healthchecks and restart_policy');
    const host = [...hostOptionsOf(s.spec), ...(s.spec.capDrop ? ['cap_drop'] : [])];
    if (host.length) refuse(host.map((h) => h.split(/[ :(]/)[0]).join(', '), 'stagecoach creates Swarm services without host-level options; use an engine target for this service');
    const options = unhonouredOptions(s);
    if (options.length) refuse(options.join(', '), 'stagecoach does not pass these container options to Swarm services yet; remove them, or use an engine target for this service');
    if (s.pullPolicy !== 'missing') refuse('pull_policy', `Swarm nodes decide when to pull; pull_policy ${s.pullPolicy} cannot be honoured`);
  }
  return out;
}

/** Swarm's restart condition for a compose restart value. */
export function restartPolicy(restart: string): { Condition: 'none' | 'on-failure' | 'any'; MaxAttempts?: number; Delay: number } {
  const delay = 1_000 * ns;
  if (restart === 'no') return { Condition: 'none', Delay: delay };
  const failure = /^on-failure(?::(\d+))?$/.exec(restart);
  if (failure) return { Condition: 'on-failure', ...(failure[1] ? { MaxAttempts: Number(failure[1]) } : {}), Delay: delay };
  return { Condition: 'any', Delay: delay };
}

/**
 * How long Swarm watches each updated task before counting the update a
 * success: long enough for the healthcheck to fail `retries` times after its
 * start period, so a task that never gets healthy rolls the update back.
 */
export function monitorMs(service: ServiceManifest): number {
  const hc = service.spec.healthcheck;
  const health = hc && hc.test?.[0] !== 'NONE' ? hc.startPeriodMs + hc.intervalMs * (hc.retries + 1) + hc.timeoutMs : 0;
  return Math.max(5_000, health + 2_000);
}

/** The labels stagecoach reads back from a service (no secret values: the spec label holds references). */
export function serviceLabels(env: string, service: ServiceManifest, revision: string): Record<string, string> {
  return {
    ...managedLabels(env),
    [labels.service]: service.name,
    [labels.specHash]: service.specHash,
    [labels.spec]: stableStringify(service.spec),
    [labels.revision]: revision,
    [replicasLabel]: String(service.replicas),
  };
}

/** The Engine API ServiceSpec for one service, secrets resolved; `fileIds` are the ids of its Swarm secrets and configs by name. Never log the result. */
export function buildServiceBody(env: LoadedEnvironment, service: ServiceManifest, revision: string, secrets: SecretSource, fileIds: ReadonlyMap<string, string> = new Map()): ServiceBody {
  const spec = service.spec;
  const hc = spec.healthcheck;
  const resolved = resolveEnvironment(spec.environment, secrets, `${env.name}/${service.name}`);
  const monitor = monitorMs(service);
  const swarm = spec.swarm;
  const mode = swarmModeOf(service);
  const placement = placementBody(swarm?.placement);
  return {
    Name: `${env.name}_${service.name}`,
    Labels: serviceLabels(env.name, service, revision),
    TaskTemplate: {
      ContainerSpec: {
        Image: spec.image,
        ...(spec.entrypoint ? { Command: spec.entrypoint } : {}),
        ...(spec.command ? { Args: spec.command } : {}),
        Env: Object.entries(resolved).map(([k, v]) => `${k}=${v}`).sort(),
        // On the task containers too: exec tests find a running task's container on this node by them, and apply tells old tasks from new.
        Labels: { ...spec.labels, ...managedLabels(env.name), [labels.service]: service.name, [labels.specHash]: service.specHash },
        Init: spec.init,
        StopGracePeriod: spec.stopGraceMs * ns,
        ...(hc
          ? { HealthCheck: { ...(hc.test ? { Test: hc.test } : {}), Interval: hc.intervalMs * ns, Timeout: hc.timeoutMs * ns, Retries: hc.retries, StartPeriod: hc.startPeriodMs * ns } }
          : {}),
        Mounts: spec.volumes.map((m) => ({
          Type: m.type,
          ...(m.source ? { Source: m.type === 'volume' ? volumeName(env.name, m.source) : m.source } : {}),
          Target: m.target,
          ReadOnly: m.readOnly,
        })),
        ...fileReferences(swarmFiles(env, service, secrets), fileIds),
      },
      Resources: resourcesBody(service),
      RestartPolicy: restartPolicy(spec.restart),
      ...(placement ? { Placement: placement } : {}),
      Networks: [{ Target: networkName(env.name), Aliases: [service.name] }],
    },
    Mode: modeBody(mode, service.replicas),
    // Swarm refuses an update config on a job ("Jobs may not have an update config"): a job is run again, never rolled.
    ...(isJobMode(mode)
      ? {}
      : {
          UpdateConfig: updatePolicyBody(swarm?.update, { failureAction: 'rollback', order: service.updateOrder, monitorMs: monitor }),
          RollbackConfig: updatePolicyBody(swarm?.rollback, { failureAction: 'pause', order: rollbackOrder(service), monitorMs: swarm?.update?.monitorMs ?? monitor }),
        }),
    // No IPVS here (and on many hosts): DNS round robin and host-mode ports by default; endpoint_mode: vip is passed on as asked.
    EndpointSpec: {
      Mode: swarm?.endpointMode ?? 'dnsrr',
      Ports: spec.ports.map((p) => ({ Protocol: p.protocol, TargetPort: p.target, ...(p.published ? { PublishedPort: p.published } : {}), PublishMode: 'host' })),
    },
  };
}
