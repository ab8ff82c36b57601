// Shared by the edge proxy tests and bench/edge-proxy.ts: test images that
// answer which version they are, and a steady request loop that counts
// failures and latencies.
import type Docker from 'dockerode';
import { buildTestImage } from './docker.js';

/** busybox httpd images answering `version N` on 8080 (and a broken one that serves nothing there). */
export async function buildVersionImages(docker: Docker, image: (tag: string) => string, labels: Record<string, string>): Promise<void> {
  const cmd = ['httpd', '-f', '-p', '8080', '-h', '/www'];
  for (const v of ['1', '2', '3']) await buildTestImage(docker, image(`v${v}`), { files: { '/www/index.html': `version ${v}\n` }, cmd, labels });
  await buildTestImage(docker, image('broken'), { files: { '/www/index.html': 'broken\n' }, cmd: ['httpd', '-f', '-p', '9999', '-h', '/www'], labels });
}

export const edgeHealthcheck = 'healthcheck:\n  test: ["CMD-SHELL", "nc 127.0.0.1 8080 </dev/null"]\n  interval: 1s\n  timeout: 1s\n  retries: 2\n';

/** A service publishing a fixed host port, as a user writes it. */
export function webService(image: string, port: number, extra = ''): string {
  return `apiVersion: stagecoach/v1\nkind: Service\nname: web\nimage: ${image}\ninit: true\nports: ["127.0.0.1:${port}:8080"]\nstop_grace_period: 2s\n${edgeHealthcheck}${extra}`;
}

export interface LoopReport {
  answers: string[];
  failures: string[];
  latenciesMs: number[];
}

/**
 * `workers` clients each sending GETs back to back (with `gapMs` between)
 * until stopped. Every answer is kept as "<status> <body>"; a network error
 * or a non-200 is a failure. Loopback only.
 */
export function requestLoop(url: string, { workers = 4, gapMs = 10, timeoutMs = 5_000 } = {}): { stop: () => Promise<LoopReport> } {
  let running = true;
  const report: LoopReport = { answers: [], failures: [], latenciesMs: [] };
  const worker = async () => {
    while (running) {
      const began = performance.now();
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        const text = `${res.status} ${(await res.text()).trim()}`;
        report.latenciesMs.push(performance.now() - began);
        report.answers.push(text);
        if (res.status !== 200) report.failures.push(`${text} at ${new Date().toISOString()}`);
      } catch (error) {
        report.failures.push(`error at ${new Date().toISOString()}: ${(error as Error).message}${(error as Error).cause ? ` (${String((error as Error).cause)})` : ''}`);
      }
      if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    }
  };
  const all = Promise.all(Array.from({ length: workers }, worker));
  return {
    stop: async () => {
      running = false;
      await all;
      return report;
    },
  };
}
