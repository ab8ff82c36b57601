import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const projectRoot = path.resolve(new URL('../../..', import.meta.url).pathname);
const dist = (file: string) => path.join(projectRoot, 'dist', file);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stagecoach-deferred-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs an ES module in a fresh node (this process has loaded everything already) and returns what it printed as JSON. */
async function fresh(code: string): Promise<Record<string, unknown>> {
  const file = path.join(dir, `probe-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(file, code);
  const { stdout } = await run(process.execPath, [file], { cwd: projectRoot });
  return JSON.parse(stdout) as Record<string, unknown>;
}

const loadedPrelude = `
import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(path.join(projectRoot, 'package.json'))});
const loaded = (part) => Object.keys(require.cache).some((k) => k.includes(part));
`;

describe('modules dockerode and docker-modem load only when called', () => {
  it('a Docker client, dockerode included, loads neither ssh2 nor grpc', async () => {
    const out = await fresh(`${loadedPrelude}
const { dockerClientFor } = await import(${JSON.stringify(dist('runtime/connect.js'))});
const { docker } = dockerClientFor('tcp://127.0.0.1:1', undefined, {});
const hasContainerApi = typeof docker.getContainer === 'function';
console.log(JSON.stringify({ dockerode: loaded('/dockerode/lib/docker.js'), hasContainerApi, ssh2: loaded('/ssh2/'), grpc: loaded('/@grpc/'), protobufjs: loaded('/protobufjs/') }));
`);
    expect(out).toEqual({ dockerode: true, hasContainerApi: true, ssh2: false, grpc: false, protobufjs: false });
  });

  it("the daemon's metrics, scraped, and its command module load neither @opentelemetry/api nor pino-pretty", async () => {
    const out = await fresh(`${loadedPrelude}
const { createMetrics } = await import(${JSON.stringify(dist('daemon/metrics.js'))});
const { deferredModules, stillDeferred } = await import(${JSON.stringify(dist('runtime/deferred-modules.js'))});
await import(${JSON.stringify(dist('cli/run.js'))});
const metrics = createMetrics();
const text = await metrics.registry.metrics();
const otel = deferredModules.objects.find((f) => f.includes('/@opentelemetry/api/'));
console.log(JSON.stringify({ cpu: /process_cpu_seconds_total \\d/.test(text), promClient: loaded('/prom-client/'), otelDeferred: stillDeferred(otel), pretty: loaded('/pino-pretty/') }));
`);
    expect(out).toEqual({ cpu: true, promClient: true, otelDeferred: true, pretty: false });
  });

  it("docker-modem's ssh transport still works when called: ssh2 loads then", async () => {
    const out = await fresh(`${loadedPrelude}
await import(${JSON.stringify(dist('runtime/deferred-modules.js'))});
const http = await import('node:http');
const Modem = require('docker-modem');
const before = loaded('/ssh2/');
const sshAgent = require(require.resolve('docker-modem').replace(/modem\\.js$/, 'ssh.js'))({ host: '127.0.0.1', port: 1 });
console.log(JSON.stringify({ modem: typeof Modem, before, after: loaded('/ssh2/'), agent: sshAgent instanceof http.Agent, connects: typeof sshAgent.createConnection }));
`);
    expect(out).toEqual({ modem: 'function', before: false, after: true, agent: true, connects: 'function' });
  });

  it('an object stand-in loads the real module when a property is first read, once', async () => {
    const real = path.join(dir, 'real-object.cjs');
    await writeFile(real, 'globalThis.objectLoads = (globalThis.objectLoads ?? 0) + 1;\nmodule.exports = { version: 7, twice: (x) => 2 * x };\n');
    const out = await fresh(`
import { createRequire } from 'node:module';
const { deferObjectModule } = await import(${JSON.stringify(dist('runtime/deferred-modules.js'))});
const require = createRequire(import.meta.url);
deferObjectModule(${JSON.stringify(real)});
const api = require(${JSON.stringify(real)});
const before = globalThis.objectLoads ?? 0;
const version = api.version;
const twice = api.twice(21);
const keys = Object.keys(api);
const again = require(${JSON.stringify(real)}).version;
console.log(JSON.stringify({ before, version, twice, keys, hasTwice: 'twice' in api, again, loads: globalThis.objectLoads }));
`);
    expect(out).toEqual({ before: 0, version: 7, twice: 42, keys: ['version', 'twice'], hasTwice: true, again: 7, loads: 1 });
  });

  it('a stand-in passes arguments, this and the result through, and loads the real module once', async () => {
    const real = path.join(dir, 'real.cjs');
    await writeFile(real, 'globalThis.loads = (globalThis.loads ?? 0) + 1;\nmodule.exports = function (a, b) { return { self: this && this.name, sum: a + b }; };\n');
    const out = await fresh(`
import { createRequire } from 'node:module';
const { deferFunctionModule } = await import(${JSON.stringify(dist('runtime/deferred-modules.js'))});
const require = createRequire(import.meta.url);
deferFunctionModule(${JSON.stringify(real)});
const fn = require(${JSON.stringify(real)});
const before = globalThis.loads ?? 0;
const first = fn.call({ name: 'caller' }, 2, 3);
const second = fn(4, 5);
const again = require(${JSON.stringify(real)})(1, 1);
console.log(JSON.stringify({ before, first, second, again, loads: globalThis.loads }));
`);
    expect(out).toEqual({ before: 0, first: { self: 'caller', sum: 5 }, second: { sum: 9 }, again: { sum: 2 }, loads: 1 });
  });
});
