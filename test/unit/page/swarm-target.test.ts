import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../../src/cli/status.js';
import type { DaemonStatus, ServiceStatus } from '../../../src/daemon/status.js';
import { renderPage } from '../../../src/server/page/render.js';
import { env, revB } from './fixtures.js';

const task = (id: string, node: string, state: string, error: string | null = null) => ({ id, node, state, desiredState: state === 'running' ? 'running' : 'shutdown', image: 'shop/web:2', error });
const web: ServiceStatus = {
  name: 'web',
  image: 'shop/web:2',
  desiredImage: 'shop/web:3',
  state: 'running',
  health: 'none',
  lastAction: { kind: 'update', outcome: 'rolled back', reasons: ['spec changed: image'], message: 'Swarm rolled the update back', at: '2026-11-29T16:00:00Z' },
  swarm: { replicas: { running: 2, desired: 2 }, update: { state: 'rollback_completed', message: 'rollback completed' }, tasks: [task('t1', 'node-a', 'running'), task('t2', 'node-b', 'running'), task('t3', 'node-a', 'failed', 'unhealthy container')] },
};

function status(): DaemonStatus {
  return {
    ready: true,
    repo: 'git://127.0.0.1:9418/config.git',
    branch: 'main',
    remote: { head: revB, checkedAt: null, error: null },
    environments: [env('shop', { target: 'swarm', state: 'degraded', services: [web] }), env('box', { target: 'engine', services: [{ ...web, desiredImage: 'shop/web:2', swarm: undefined }] })],
  };
}

describe('status shows the target kind and, for Swarm services, tasks on their nodes', () => {
  it('stagecoach status', () => {
    const lines = formatStatus(status()).split('\n');
    expect(lines).toContain(`shop (swarm): degraded  desired ${revB.slice(0, 7)}  applied ${revB.slice(0, 7)}  last good ${revB.slice(0, 7)}`);
    expect(lines).toContain('  web              shop/web:2 (wants shop/web:3)  running 2/2 tasks, update rollback_completed  last: update rolled back — Swarm rolled the update back');
    expect(lines).toContain('    task t1 on node-a: running');
    expect(lines).toContain('    task t3 on node-a: failed — unhealthy container');
    expect(lines.some((l) => l.startsWith('box (engine): synced'))).toBe(true);
    expect(lines.filter((l) => l.includes('task '))).toHaveLength(3);
  });

  it('the page', () => {
    const html = renderPage(status());
    const shop = html.slice(html.indexOf('data-environment="shop"'), html.indexOf('</article>', html.indexOf('data-environment="shop"')));
    const box = html.slice(html.indexOf('data-environment="box"'), html.indexOf('</article>', html.indexOf('data-environment="box"')));
    expect(shop).toContain('<span class="target">Swarm</span>');
    expect(shop).toContain('<span class="tasks">2/2 tasks on node-a, node-b</span>');
    expect(box).not.toContain('class="target"');
    expect(box).not.toContain('class="tasks"');
  });
});
