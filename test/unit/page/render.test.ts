import { describe, expect, it } from 'vitest';
import { renderPage, renderPipeline } from '../../../src/server/page/render.js';
import { pageRoute } from '../../../src/server/page/routes.js';
import { announcement, pipelineView, promotionOrder } from '../../../src/server/page/view.js';
import { env, pipelineStatus } from './fixtures.js';

/** Text between two markers of the rendered HTML: what one environment's card says. */
const card = (html: string, name: string) => html.slice(html.indexOf(`data-environment="${name}"`), html.indexOf('</article>', html.indexOf(`data-environment="${name}"`)));
const text = (html: string) => html.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ');

describe('promotion order', () => {
  it.each([
    ['a chain given alphabetically', [env('dev'), env('live', { gate: { from: 'qa', state: 'open' } }), env('qa', { gate: { from: 'dev', state: 'open' } })], ['dev', 'qa', 'live']],
    ['two environments promoting from one', [env('b', { gate: { from: 'a', state: 'open' } }), env('c', { gate: { from: 'a', state: 'open' } }), env('a')], ['a', 'b', 'c']],
    ['a loop (cannot happen, must not hang)', [env('x', { gate: { from: 'y', state: 'open' } }), env('y', { gate: { from: 'x', state: 'open' } })], ['x', 'y']],
    ['an upstream this daemon does not manage', [env('prod', { gate: { from: 'staging', state: 'open' } }), env('dev')], ['dev', 'prod']],
  ])('%s', (_what, envs, order) => {
    expect(promotionOrder(envs).map((e) => e.env.name)).toEqual(order);
  });
});

describe('the pipeline page', () => {
  const status = pipelineStatus();
  const html = renderPage(status);

  it('shows environments left to right in promotion order', () => {
    const positions = ['dev', 'qa', 'live'].map((n) => html.indexOf(`data-environment="${n}"`));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('says where each running image was verified, and what a blocked environment wants', () => {
    expect(pipelineView(status).map((v) => [v.env.name, v.services.map((s) => [s.name, s.image, s.wanted, s.verifiedIn])])).toEqual([
      ['dev', [['web', 'shop/web:2', null, ['dev']]]],
      ['qa', [['web', 'shop/web:1', null, ['qa']]]],
      ['live', [['web', 'shop/web:1', 'shop/web:3', ['qa']]]],
    ]);
    expect(text(card(html, 'live'))).toContain('shop/web:1wants shop/web:3');
  });

  it('shows the gate with its reasons, the marker with each test, proposals and decisions', () => {
    const live = text(card(html, 'live'));
    expect(live).toContain('live blocked');
    expect(live).toContain('Gate from qa: blocked');
    expect(live).toContain('web: shop/web:3 has no passing marker in qa');
    expect(live).toContain('Recent decisions (1 of 1)');
    expect(live).toContain('block revision 2222222 blocked by the gate from qa');
    const dev = text(card(html, 'dev'));
    expect(dev).toContain('No gate');
    expect(dev).toContain('passed homepage answers: 200 from GET http://127.0.0.1:1/');
    expect(dev).toContain('passed worker alive: exited 0');
    const qa = text(card(html, 'qa'));
    expect(qa).toContain('Gate from dev: open');
    expect(qa).toContain('Waiting for a person');
    expect(qa).toContain('stagecoach/promote/qa eeeeeee: web=shop/web:2');
    expect(qa).toContain('passed 1/1 tests');
  });

  it('shows each watched service of image automation: image, newest allowed, policy, last check and error', () => {
    const watched = pipelineStatus();
    watched.images = [
      { environment: 'dev', service: 'web', registry: '127.0.0.1:5000', policy: 'semver ^1', current: '127.0.0.1:5000/app:1.0.0', newestAllowed: '127.0.0.1:5000/app:1.0.1', lastCheck: '2026-11-29T10:00:00.000Z', lastError: null, lastUpdate: null },
      { environment: 'dev', service: 'api', registry: '127.0.0.1:5000', policy: 'pin: digest', current: '127.0.0.1:5000/api:latest', newestAllowed: null, lastCheck: null, lastError: 'wrong <password>', lastUpdate: null },
    ];
    const out = text(renderPipeline(watched));
    expect(out).toContain('dev/web127.0.0.1:5000/app:1.0.0127.0.0.1:5000/app:1.0.1semver ^1');
    expect(out).toContain('dev/api127.0.0.1:5000/api:latest-pin: digestneverwrong &#60;password&#62;');
    expect(text(renderPipeline(pipelineStatus()))).not.toContain('image automation');
  });

  it('escapes everything that came from the repo', () => {
    const evil = '<script>alert(1)</script>"\'><img src=x onerror=alert(2)>';
    const hostile = pipelineStatus();
    hostile.environments[0] = env('dev', {
      services: [{ name: evil, image: evil, desiredImage: evil, state: evil, health: evil, lastAction: null }],
      errors: [evil],
      decisions: [{ at: evil, kind: 'error', revision: null, reason: evil, service: evil }],
      lastMarker: { result: evil, revision: evil, at: evil, commit: evil, tests: evil, results: [{ name: evil, result: evil, message: evil }] },
      proposals: [{ branch: evil, commit: evil, images: [evil], at: evil }],
    });
    hostile.environments[1]!.blocked = [evil];
    hostile.repo = evil;
    hostile.remote.error = evil;
    const out = renderPage(hostile);
    expect(out).not.toContain('<script>alert');
    expect(out).not.toContain('<img');
    expect(out).not.toMatch(/"'>/);
    expect(out).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
  });

  it('is a document with landmarks, a live region, and only the daemon\'s own assets', () => {
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    for (const landmark of ['<header>', '<main id="pipeline"', '<footer>', '<h1>', '<h2 id="env-dev">', 'role="status" aria-live="polite"', 'href="#pipeline"']) expect(html).toContain(landmark);
    expect(html).toContain('<link rel="stylesheet" href="/assets/pipeline.css">');
    expect(html).toContain('<script src="/assets/pipeline.js" defer></script>');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<script>|style=/);
    expect(html).toContain('<th scope="col">verified in</th>');
  });

  it('announces each environment and its state, in promotion order', () => {
    expect(announcement(status)).toBe('dev synced; qa synced, 1 proposal waiting; live blocked');
  });

  it('says when nothing is known yet and when the remote cannot be reached', () => {
    const empty = { ...pipelineStatus(), ready: false, environments: [], remote: { head: null, checkedAt: null, error: 'git ls-remote failed: connection refused' } };
    const out = text(renderPipeline(empty));
    expect(out).toContain('No environments yet');
    expect(out).toContain('The config repo cannot be reached: git ls-remote failed: connection refused');
    expect(out).toContain('starting');
  });
});

describe('page routes', () => {
  const status = () => pipelineStatus();
  it.each([
    ['/', 'text/html; charset=utf-8', '<!doctype html>'],
    ['/api/v1/pipeline', 'application/json; charset=utf-8', '"announce":"dev synced; qa synced, 1 proposal waiting; live blocked"'],
    ['/assets/pipeline.css', 'text/css; charset=utf-8', ':focus-visible'],
    ['/assets/pipeline.js', 'text/javascript; charset=utf-8', "setAttribute('data-updated'"],
  ])('GET %s', (path, type, body) => {
    const res = pageRoute('GET', path, status)!;
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(type);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.body).toContain(body);
  });

  it('leaves every other request to the rest of the server', () => {
    expect(pageRoute('GET', '/api/v1/environments', status)).toBeUndefined();
    expect(pageRoute('POST', '/', status)).toBeUndefined();
  });
});
