import { once } from 'node:events';
import { createServer } from 'node:http';
import type { RequestListener, Server } from 'node:http';
import { edgeImageSupply } from './edge-images.js';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { loadSettings } from '../config/settings.js';
import type { RunFlags, Settings } from '../config/settings.js';
import { systemClock } from '../daemon/clock.js';
import { ContainerDeploy } from '../daemon/container-deploy.js';
import { Daemon } from '../daemon/daemon.js';
import type { DeployStep } from '../daemon/deploy-step.js';
import { createMetrics } from '../daemon/metrics.js';
import { swarmMarkerFacts } from '../daemon/swarm-facts.js';
import type { DaemonStatus } from '../daemon/status.js';
import { compileSchemas } from '../manifest/schemas.js';
import type { EnvironmentManifest } from '../manifest/types.js';
import { trustHooks } from '../promotion/trust.js';
import { hostSecrets } from '../reconcile/secrets.js';
import { daemonImageAutomation } from '../images/daemon-hook.js';
import { processCredentialHelper } from '../registry/helper-process.js';
import { dockerClientFor, dockerConfigPath, DockerRuntime } from '../runtime/docker-runtime.js';
import { ensureExampleImages } from '../runtime/ensure-image.js';
import { InspectCache } from '../reconcile/inspect-cache.js';
import { DriftWatch } from '../reconcile/drift-watch.js';
import { keepFollowing } from '../runtime/event-stream.js';
import { labels } from '../runtime/labels.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { hardenServer } from '../server/edge.js';
import { createRequestHandler } from '../server/http.js';
import { GitRepository } from '../git/repository.js';
import { seedExampleRepo } from '../git/seed.js';
import { isLocalPath } from '../git/local-refs.js';
import { watchLocalRepo } from '../source/watch.js';
import { fetchPost } from '../notify/http-port.js';
import { createNotifyMetrics } from '../notify/metrics.js';
import { Notifier } from '../notify/notifier.js';
import { notificationFromDecision } from '../notify/from-store.js';
import type { CliIo } from './io.js';
import { exitCodes } from './io.js';
import { swarmTargets } from './run-swarm.js';

const bundledEnvironments = fileURLToPath(new URL('../../environments', import.meta.url));
const unhealthy = /health_status: unhealthy/;

/** Readable lines on a terminal; JSON lines otherwise, without loading pino-pretty (~30 files, ~5 MB of an idle daemon). */
function daemonLogger(settings: Settings, io: CliIo): Logger {
  const options = { level: settings.logLevel, base: undefined };
  if (!io.isTTY) return pino(options, pino.destination(2));
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return pino(options, pretty({ colorize: true, destination: 2, ignore: 'pid,hostname' }));
}

const noEngineHelp =
  'stagecoach needs a running Docker engine. On Debian/Ubuntu: `sudo apt-get install -y docker.io && sudo dockerd &` ' +
  '(or start Docker Desktop), then check that `docker info` answers; set DOCKER_HOST for a remote engine.';

/** Docker events of managed containers that mean drift: heal that environment now rather than at the next periodic check. */
function followEngine(runtime: ContainerRuntime, daemon: Daemon, log: Logger): () => void {
  const followed = keepFollowing(
    runtime,
    { [labels.managed]: 'true' },
    (e) => {
      if (e.action.startsWith('health_status') && !unhealthy.test(e.action)) return;
      const env = e.labels[labels.environment];
      if (env) daemon.trigger({ kind: 'docker-event', reason: `docker event: ${e.container} ${e.action}`, heal: [env], remote: false });
    },
    { retryMs: 5_000, onEnd: (error) => log.warn({ host: runtime.host, err: error?.message }, 'docker event stream ended; following it again in 5s') },
  );
  return () => followed.close();
}

function allInSync(status: DaemonStatus): boolean {
  return status.ready && status.environments.length > 0 && status.environments.every((e) => e.state === 'synced');
}

/**
 * Binds the listen address; on failure says why and resolves to undefined (the
 * caller exits non-zero). Until `serve` is given a handler, requests get 503
 * (starting) rather than hanging.
 */
async function listen(settings: Settings, io: CliIo): Promise<{ server: Server; serve(handler: RequestListener): void } | undefined> {
  let handler: RequestListener | undefined;
  // Edge limits (connection caps, timeouts) from the first connection on.
  const server = hardenServer(createServer((req, res) => {
    if (handler) return handler(req, res);
    res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '1' });
    res.end('{"starting":true}');
  }));
  server.listen(settings.listen.port, settings.listen.host);
  try {
    await once(server, 'listening');
    return { server, serve: (h) => void (handler = h) };
  } catch (error) {
    io.err(`stagecoach: cannot listen on ${settings.listen.host}:${settings.listen.port}: ${(error as Error).message}`);
    server.close();
    return undefined;
  }
}

/** `stagecoach run`: the daemon. Builds everything here (the one composition root), runs until SIGTERM/SIGINT, exits 0. */
export async function runCommand(flags: RunFlags, io: CliIo): Promise<number> {
  const validators = compileSchemas();
  const settings = loadSettings(flags, io.env, io.cwd, validators);
  const log = daemonLogger(settings, io);
  const metrics = createMetrics();
  // Listen first: a taken address ends the start here, before anything else holds the process open.
  const listening = await listen(settings, io);
  if (!listening) return exitCodes.error;
  const { server } = listening;
  const closeServer = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  const runtimes = new Map<string, ContainerRuntime>();
  const unfollow: (() => void)[] = [];
  let daemon: Daemon | undefined;
  const runtimeFor = (env: EnvironmentManifest | null): ContainerRuntime => {
    // A Swarm environment's engine too: its tests, exec and image facts run there; its task containers' events start drift checks.
    const { docker, host } = dockerClientFor(env?.target.docker ?? null, env?.target.tls ?? undefined, io.env);
    let runtime = runtimes.get(host);
    if (!runtime) {
      runtime = new DockerRuntime(docker, host, dockerConfigPath(io.env), processCredentialHelper({ env: io.env }));
      runtimes.set(host, runtime);
      if (daemon) unfollow.push(followEngine(runtime, daemon, log));
    }
    return runtime;
  };

  let repoUrl = settings.repo;
  const bundled = repoUrl === undefined;
  if (bundled) {
    try {
      await runtimeFor(null).ping();
    } catch (error) {
      io.err(`stagecoach: no Docker engine answers (${(error as Error).message}).\n${noEngineHelp}`);
      await closeServer();
      return exitCodes.error;
    }
    await ensureExampleImages(runtimeFor(null), (line) => io.out(line)); // pull, else build the busybox stand-in: `npm ci && npm start` is the whole set-up
    const seeded = await seedExampleRepo(settings.dataDir, bundledEnvironments, settings.branch);
    repoUrl = seeded.path;
    io.out(`stagecoach: no --repo given: following the bundled example, seeded into ${seeded.path}${seeded.created ? '' : ' (kept from an earlier start)'}`);
    io.out(`  change it: git clone ${seeded.path} && edit environments/ && git push`);
  }
  const repo = new GitRepository({ url: repoUrl!, branch: settings.branch, dir: path.join(settings.dataDir, 'repo') });
  const secrets = hostSecrets(settings.secretsDir, io.env);
  const steps = new Map<ContainerRuntime, DeployStep>();
  const edgeImages = edgeImageSupply(io.env);
  // Swarm environments: services through the manager's API (src/swarm/), never the container reconciler.
  const swarms = swarmTargets(io.env, { secrets, log, metrics, clock: systemClock });
  const deployFor = (env: EnvironmentManifest): DeployStep => {
    const runtime = runtimeFor(env);
    if (env.target.mode === 'swarm') return swarms.stepFor(env);
    let step = steps.get(runtime);
    if (!step) {
      // Drift checks re-inspect only containers the list call shows changed (or `docker update` touched).
      const cache = new InspectCache();
      const followed = cache.follow(runtime);
      unfollow.push(() => followed.close());
      // The periodic check skips the list call of a quiet environment the engine's events vouch for (at least every resync it lists).
      const watch = settings.resyncMs > 0 ? new DriftWatch({ resyncMs: settings.resyncMs }) : undefined;
      if (watch) {
        const watched = watch.follow(runtime);
        unfollow.push(() => watched.close());
      }
      steps.set(runtime, (step = new ContainerDeploy({ runtime, secrets, log, metrics, clock: systemClock, cache, edgeImages, watch })));
    }
    return step;
  };
  const notifications = settings.notifications;
  const notifier = notifications?.sinks.length
    ? new Notifier({ settings: notifications, context: { repo: repo.displayUrl, branch: settings.branch, pageUrl: notifications.pageUrl }, post: fetchPost(), metrics: createNotifyMetrics(metrics.registry), log: log.child({ component: 'notify' }) })
    : undefined;
  daemon = new Daemon({
    git: repo,
    branch: settings.branch,
    only: settings.environments,
    intervalMs: settings.intervalMs,
    validators,
    deployFor,
    runtimeFor: (env) => runtimeFor(env),
    markerFacts: (env) => (env.environment.target.mode === 'swarm' ? swarmMarkerFacts(swarms.portFor(env.environment), runtimeFor(env.environment), env) : undefined),
    secrets,
    policy: settings.policy,
    trust: trustHooks(repo.dir, {
      keys: settings.trust.allowedSigners || settings.trust.openpgpKeyring ? { allowedSigners: settings.trust.allowedSigners, openpgpKeyring: settings.trust.openpgpKeyring } : undefined,
      requireSignedHead: settings.trust.requireSignedHead,
    }),
    // The daemon's own commits (markers, proposals) are SSH-signed with the key from the settings.
    sign: settings.trust.signingKey ? { format: 'ssh', key: settings.trust.signingKey } : undefined,
    log,
    metrics,
    clock: systemClock,
    images: daemonImageAutomation({
      git: repo,
      branch: settings.branch,
      dockerConfigPath: dockerConfigPath(io.env),
      helperEnv: io.env,
      // 0.8: polls come with ±10 % jitter; a registry due at the next poll must not wait a second one.
      intervalMsFor: (registry) => settings.registryIntervalsMs[registry] ?? settings.intervalMs * 0.8,
      log,
      now: () => systemClock.now(),
    }),
    // A full GC after a deploy (node --expose-gc, as npm start and the image run it; otherwise nothing).
    afterChanges: () => (globalThis as { gc?: () => void }).gc?.(),
    onCycle: (() => {
      let announced = false;
      return (status: DaemonStatus) => {
        const synced = allInSync(status);
        if (synced && !announced) io.out(`stagecoach: all environments in sync (${status.environments.map((e) => `${e.name} at ${e.revision.applied?.slice(0, 7)}`).join(', ')})`);
        announced = synced;
      };
    })(),
  });
  for (const runtime of runtimes.values()) unfollow.push(followEngine(runtime, daemon, log));
  // Notifications hear every stored decision; notify() returns at once and never throws.
  if (notifier) daemon.store.subscribe((event) => {
    const notification = notificationFromDecision(event);
    if (notification) notifier.notify(notification);
  });

  listening.serve(createRequestHandler({ daemon, metrics, log, branch: settings.branch, webhookSecret: settings.webhookSecret, apiToken: settings.apiToken }));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : settings.listen.port;
  const base = `http://${settings.listen.host.includes(':') ? `[${settings.listen.host}]` : settings.listen.host}:${port}`;
  io.out(`stagecoach: following ${repo.displayUrl} (${settings.branch}) every ${settings.intervalMs / 1000}s`);
  io.out(`  status: ${base}/  api: ${base}/api/v1/environments  metrics: ${base}/metrics`);
  if (bundled) io.out('  the example: testing http://127.0.0.1:18080/  staging http://127.0.0.1:18081/  production http://127.0.0.1:18082/');
  const watcher = isLocalPath(repoUrl!) ? watchLocalRepo(repoUrl!, () => daemon!.trigger({ kind: 'watch', reason: 'commit in the local repository' })) : undefined;
  daemon.start();

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info({ signal }, 'stopping: finishing the step in flight');
  io.out(`stagecoach: ${signal}: finishing the step in flight, then exiting`);
  await daemon.stop();
  await notifier?.stop();
  for (const stop of unfollow) stop();
  await watcher?.close();
  await closeServer();
  io.out('stagecoach: stopped');
  return exitCodes.ok;
}
