import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { labels } from '../../../src/runtime/labels.js';
import { runTests, summarize } from '../../../src/verify/run-tests.js';
import type { VerifyDeps } from '../../../src/verify/run-tests.js';
import type { TestResult } from '../../../src/verify/types.js';
import { FakeRuntime } from '../../support/fake-runtime.js';
import { converge, environment, fakeWith, svc } from '../reconcile/support.js';

/** /flaky answers 503 `failuresLeft` times, then 200; /health is always 200; /down always 503. */
let server: Server;
let base: string;
let failuresLeft = 0;
let requests = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    if (req.url === '/flaky' && failuresLeft > 0) {
      failuresLeft--;
      res.writeHead(503).end('warming up');
      return;
    }
    res.writeHead(req.url === '/down' ? 503 : 200).end(req.url === '/down' ? 'down' : 'ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  failuresLeft = 0;
  requests = 0;
});

/** Deps with an injected sleep (recorded, instant) and a clock that advances 10 ms per reading. */
function deps(runtime: FakeRuntime = new FakeRuntime(), secrets: VerifyDeps['secrets'] = (name) => (name === 'api-token' ? 'hunter2' : undefined)) {
  const sleeps: number[] = [];
  const seen: string[] = [];
  let clock = 0;
  const d: VerifyDeps = {
    runtime,
    secrets,
    sleep: async (ms) => void sleeps.push(ms),
    now: () => (clock += 10),
    onResult: (r) => seen.push(`${r.name} ${r.result}`),
  };
  return { d, sleeps, seen };
}

const web = { 'web.yaml': svc('web') };
const tests = (yaml: string) => `tests:\n${yaml}`;
const line = (r: TestResult) => `${r.name} [${r.kind}] ${r.result} after ${r.attempts}: ${r.message}`;

describe('runTests: retries', () => {
  it.each([
    ['passes at once: one attempt, no wait', 3, 0, 'passed', 1, [], '200 from GET {base}/flaky'],
    ['passes on the third attempt after two waits', 3, 2, 'passed', 3, [2000, 2000], '200 from GET {base}/flaky (after 3 attempts)'],
    ['passes on the last allowed attempt', 2, 2, 'passed', 3, [2000, 2000], '200 from GET {base}/flaky (after 3 attempts)'],
    ['fails after every attempt, without a wait after the last', 2, 5, 'failed', 3, [2000, 2000], 'expected 200, got 503 from GET {base}/flaky (after 3 attempts)'],
    ['fails at once with no retries', 0, 1, 'failed', 1, [], 'expected 200, got 503 from GET {base}/flaky'],
  ] as const)('%s', async (_name, retries, failures, result, attempts, sleeps, message) => {
    failuresLeft = failures;
    const env = await environment(web, tests(`  - name: home\n    retries: ${retries}\n    delay: 2s\n    http: { url: "${base}/flaky" }\n`));
    const { d, sleeps: slept } = deps();
    const [r] = await runTests(env, d);
    expect(r).toMatchObject({ name: 'home', kind: 'http', result, attempts, message: message.replace('{base}', base) });
    expect(requests).toBe(attempts);
    expect(slept).toEqual(sleeps);
  });

  it('does not retry a check that could not run (error), and says why', async () => {
    const env = await environment(web, tests('  - name: smoke\n    retries: 5\n    delay: 1s\n    container: { image: "smoke:missing" }\n'));
    const { d, sleeps } = deps(fakeWith('busybox:1.35'));
    const [r] = await runTests(env, d);
    expect(line(r!)).toBe('smoke [container] error after 1: test image smoke:missing is not present on fake://engine and could not be pulled: pull access denied for smoke:missing, repository does not exist');
    expect(sleeps).toEqual([]);
  });

  it('runs every test in order, reports each as it finishes, and times it with the injected clock', async () => {
    const env = await environment(
      web,
      tests(`  - name: home\n    http: { url: "${base}/health" }\n  - name: api\n    http: { url: "${base}/down" }\n  - name: again\n    retries: 1\n    delay: 500ms\n    http: { url: "${base}/health" }\n`),
    );
    const { d, seen } = deps();
    const results = await runTests(env, d);
    expect(results.map(line)).toEqual([`home [http] passed after 1: 200 from GET ${base}/health`, `api [http] failed after 1: expected 200, got 503 from GET ${base}/down`, `again [http] passed after 1: 200 from GET ${base}/health`]);
    expect(seen).toEqual(['home passed', 'api failed', 'again passed']);
    expect(results.map((r) => r.durationMs)).toEqual([10, 10, 10]);
    expect(summarize(results)).toEqual({ result: 'failed', passed: 2, total: 3 });
  });

  it('returns nothing for an environment without tests, which summarizes as passed', async () => {
    const results = await runTests(await environment(web), deps().d);
    expect(results).toEqual([]);
    expect(summarize(results)).toEqual({ result: 'passed', passed: 0, total: 0 });
  });
});

describe('runTests: exec', () => {
  const execEnv = () => environment(web, tests('  - name: migrations\n    retries: 1\n    delay: 1s\n    exec: { service: web, command: ["check-migrations", "--strict"] }\n'));

  it.each([
    ['passes when the command exits 0', undefined, 'migrations [exec] passed after 1: "check-migrations --strict" in testing-web exited 0', []],
    ['fails with the exit code, after its retries', 3, 'migrations [exec] failed after 2: "check-migrations --strict" in testing-web exited with code 3 (after 2 attempts)', [1000]],
  ])('%s', async (_name, exitCode, expected, sleeps) => {
    const runtime = fakeWith('busybox:1.35');
    const env = await execEnv();
    await converge(runtime, env);
    if (exitCode !== undefined) runtime.execResults.set('check-migrations', exitCode);
    const { d, sleeps: slept } = deps(runtime);
    const [r] = await runTests(env, d);
    expect(line(r!)).toBe(expected);
    expect(r!.output).toBe('ran check-migrations --strict\n');
    expect(slept).toEqual(sleeps);
  });

  it('fails, naming the service, when no container of it is running', async () => {
    const runtime = fakeWith('busybox:1.35');
    const env = await execEnv();
    await converge(runtime, env);
    const [id] = [...runtime.containers.keys()];
    await runtime.stopContainer(id!);
    const [r] = await runTests(env, deps(runtime).d);
    expect(line(r!)).toBe('migrations [exec] failed after 2: no running container of service web to run "check-migrations --strict" in (after 2 attempts)');
  });

  it('runs in the first replica, not in a candidate or previous slot', async () => {
    const runtime = fakeWith('busybox:1.35');
    const env = await environment({ 'web.yaml': svc('web', 'deploy: { replicas: 2 }\n') }, tests('  - name: ping\n    exec: { service: web, command: "ping -c1 db" }\n'));
    await converge(runtime, env);
    expect((await runTests(env, deps(runtime).d)).map(line)).toEqual(['ping [exec] passed after 1: "ping -c1 db" in testing-web-1 exited 0']);
    // Mid-rollout, replica 1 is the previous slot (still running); replica 2 is the first current one.
    await runtime.renameContainer(runtime.byName('testing-web-1')!.id, 'testing-web-1.prev');
    expect((await runTests(env, deps(runtime).d)).map(line)).toEqual(['ping [exec] passed after 1: "ping -c1 db" in testing-web-2 exited 0']);
  });
});

describe('runTests: container', () => {
  it('runs the test image on the environment network with its labels and secrets, passes on exit 0, and removes it', async () => {
    const runtime = fakeWith('busybox:1.35', 'shop/smoke:1');
    const env = await environment(web, tests('  - name: Smoke Test!\n    container:\n      image: shop/smoke:1\n      command: ["run", "--all"]\n      environment: { TARGET: "http://web", TOKEN: { secret: api-token } }\n'));
    let created: Parameters<FakeRuntime['createContainer']>[0] | undefined;
    const create = runtime.createContainer.bind(runtime);
    runtime.createContainer = async (spec) => {
      created = spec;
      return create(spec);
    };
    const [r] = await runTests(env, deps(runtime).d);
    expect(line(r!)).toBe('Smoke Test! [container] passed after 1: shop/smoke:1 exited 0');
    expect(created).toMatchObject({
      image: 'shop/smoke:1',
      command: ['run', '--all'],
      env: { TARGET: 'http://web', TOKEN: 'hunter2' },
      network: 'stagecoach-testing',
      labels: { [labels.managed]: 'true', [labels.environment]: 'testing', 'io.stagecoach.test-run': 'Smoke Test!' },
      restart: 'no',
    });
    expect(created!.name).toMatch(/^testing-test-smoke-test--[0-9a-z]+$/);
    expect(runtime.writes.filter((w) => w.includes('-test-')).map((w) => w.split(' ')[0])).toEqual(['create', 'start', 'remove']);
    expect(runtime.names()).toEqual([]);
  });

  it('fails with the exit code and keeps the output tail', async () => {
    const runtime = fakeWith('busybox:1.35', 'shop/smoke:1');
    runtime.failing.set('shop/smoke:1', 'exit');
    const env = await environment(web, tests('  - name: smoke\n    container: { image: shop/smoke:1 }\n'));
    const [r] = await runTests(env, deps(runtime).d);
    expect(line(r!)).toBe('smoke [container] failed after 1: shop/smoke:1 exited with code 1');
    expect(r!.output).toMatch(/^log of testing-test-smoke-/);
    expect(runtime.names()).toEqual([]);
  });

  it('is an error, creating nothing, when a secret of the test is missing', async () => {
    const runtime = fakeWith('busybox:1.35', 'shop/smoke:1');
    const env = await environment(web, tests('  - name: smoke\n    retries: 3\n    container: { image: shop/smoke:1, environment: { TOKEN: { secret: absent } } }\n'));
    const { d, sleeps } = deps(runtime, () => undefined);
    const [r] = await runTests(env, d);
    expect(r).toMatchObject({ result: 'error', attempts: 1 });
    expect(r!.message).toMatch(/absent/);
    expect(sleeps).toEqual([]);
    expect(runtime.writes.filter((w) => w.startsWith('create'))).toEqual([]);
  });
});
