import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess } from './helpers/daemon.js';
import { artifactPath, launchChromium } from './helpers/browser.js';
import { buildTestImage, freePort, removeByLabel, requireDocker, TEST_LABEL, uniqueName, waitFor } from './helpers/docker.js';
import { git, GitServer, UserClone } from './helpers/git.js';
import { Receiver } from './helpers/receiver.js';

// Our own environment names, not the bundled example's: dev → qa → live.
// Alphabetically that is dev, live, qa, so the page's order can only come from promotion.from.
const run = uniqueName('page');
const sfx = run.slice(5).replace(/-/g, '');
const [dev, qa, live] = [`dev${sfx}`, `qa${sfx}`, `live${sfx}`];
const image = (tag: string) => `stagecoach-test/${run}:${tag}`;
const hookKey = `hook-key-${run}`;
let docker: Docker;
let server: GitServer;
let receiver: Receiver;
let daemon: DaemonProcess;
let user: UserClone;
let browser: Browser;
const ports: Record<string, number> = {};
let pollsAtBlock = 0;

const web = (tag: string, port: number) =>
  `apiVersion: stagecoach/v1\nkind: Service\nname: web\nimage: ${image(tag)}\ninit: true\nports: ["127.0.0.1:${port}:8080"]\nstop_grace_period: 1s\n` +
  `healthcheck:\n  test: ["CMD-SHELL", "nc 127.0.0.1 8080 </dev/null"]\n  interval: 1s\n  timeout: 1s\n  retries: 2\n`;

const envYaml = (env: string, port: number, from?: string) =>
  `apiVersion: stagecoach/v1\nkind: Environment\nname: ${env}\ntests:\n  - name: homepage answers\n    http:\n      url: http://127.0.0.1:${port}/\n      expect: { status: 200, body: "version" }\n    retries: 3\n    delay: 500ms\n` +
  (from ? `promotion:\n  from: ${from}\n  auto: branch\n` : '');

beforeAll(async () => {
  docker = await requireDocker();
  const cmd = ['httpd', '-f', '-p', '8080', '-h', '/www'];
  for (const tag of ['v1', 'v2', 'v3']) await buildTestImage(docker, image(tag), { files: { '/www/index.html': `version ${tag}\n` }, cmd, labels: { [TEST_LABEL]: run } });
  for (const env of [dev, qa, live]) ports[env] = await freePort();
  server = await GitServer.start();
  const url = await server.createRepo(run, {
    [`environments/${dev}/environment.yaml`]: envYaml(dev, ports[dev]!),
    [`environments/${dev}/web.yaml`]: web('v1', ports[dev]!),
    [`environments/${qa}/environment.yaml`]: envYaml(qa, ports[qa]!, dev),
    [`environments/${qa}/web.yaml`]: web('v1', ports[qa]!),
    [`environments/${live}/environment.yaml`]: envYaml(live, ports[live]!, qa),
    [`environments/${live}/web.yaml`]: web('v1', ports[live]!),
  });
  receiver = new Receiver(await freePort(), hookKey);
  await receiver.up();
  const dir = path.join(server.baseDir, 'settings');
  await git(server.baseDir, 'init', '-q', dir);
  await writeFile(path.join(dir, 'hook.key'), `${hookKey}\n`);
  await writeFile(
    path.join(dir, 'settings.yaml'),
    `apiVersion: stagecoach/v1\nkind: Settings\nnotifications:\n  retry: { attempts: 50, initialDelay: 100ms, maxDelay: 1s }\n  sinks:\n    - name: receiver\n      type: webhook\n      url: ${receiver.base}/stagecoach\n      secret: { file: hook.key }\n      environments: [${dev}, ${qa}, ${live}]\n`,
  );
  daemon = await DaemonProcess.start(['--repo', url, '--interval', '300ms', '--config', path.join(dir, 'settings.yaml')]);
  user = await UserClone.of(url);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await daemon?.dispose();
  await user?.dispose();
  await receiver?.down();
  await server?.dispose();
  for (const env of [dev, qa, live]) await removeByLabel(docker, 'io.stagecoach.environment', env);
  await removeByLabel(docker, TEST_LABEL, run, { images: true });
});

/** What the page shows, read from the DOM as a person would read it. */
async function pipeline(page: Page) {
  return page.locator('li[data-environment]').evaluateAll((items) =>
    items.map((li) => ({
      name: li.getAttribute('data-environment'),
      heading: li.querySelector('h2')?.textContent?.trim(),
      state: li.querySelector('h2 [data-state]')?.textContent,
      rows: [...li.querySelectorAll('table.services tbody tr')].map((tr) => [...tr.children].map((c) => (c as HTMLElement).innerText.replace(/\s+/g, ' ').trim())),
      gate: (li.querySelector('.gate') as HTMLElement | null)?.innerText.replace(/\s+/g, ' ').trim(),
      marker: [...li.querySelectorAll('.tests li')].map((t) => (t as HTMLElement).innerText.trim()),
      proposals: [...li.querySelectorAll('.proposals li')].map((t) => (t as HTMLElement).innerText.replace(/\s+/g, ' ').trim()),
    })),
  );
}

describe('the pipeline page in a real browser', () => {
  it('shows the pipeline in promotion order, and keeps it current through deploys, a proposal and a block without reloading', async () => {
    await daemon.waitFor(live, (e) => e.state === 'synced' && e.lastMarker?.result === 'passed', `${live} to take v1 after ${qa} proved it`, 120_000);
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, reducedMotion: 'reduce' });
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(daemon.base)) foreign.push(r.url());
    });
    await page.goto(`${daemon.base}/`);
    expect(await page.title()).toBe('stagecoach pipeline');
    await page.waitForFunction(() => document.getElementById('updates')?.textContent === 'Updates live.');

    const first = await pipeline(page);
    expect(first.map((e) => e.name)).toEqual([dev, qa, live]);
    expect(first.map((e) => e.state)).toEqual(['synced', 'synced', 'synced']);
    for (const env of first) {
      expect(env.rows).toEqual([['web', image('v1'), expect.stringMatching(/^running/), expect.stringContaining(dev)]]);
      expect(env.marker).toEqual([expect.stringMatching(new RegExp(`^passed homepage answers: 200 from GET http://127\\.0\\.0\\.1:${ports[env.name!]}/`))]);
    }
    expect(first[0]!.rows[0]![3]).toBe(`${dev}, ${qa}, ${live}`);
    expect(first.map((e) => e.gate)).toEqual(['No gate: deploys what git says.', `Gate from ${dev}: open`, `Gate from ${qa}: open`]);
    await page.screenshot({ path: await artifactPath('page', '1-synced.png'), fullPage: true });

    // The same document from here on: a reload would lose this.
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));

    // A deploy to dev, verified there, proposed to qa.
    await git(user.dir, 'pull', '-q', '--rebase');
    await user.write(`environments/${dev}/web.yaml`, web('v2', ports[dev]!));
    await user.push(`${dev}: web version 2`);
    await page.waitForFunction(
      ([q, img]) => document.querySelector(`li[data-environment="${q}"] .proposals`)?.textContent?.includes(`web=${img}`) ?? false,
      [qa, image('v2')] as const,
      { timeout: 90_000 },
    );

    // An image nobody verified, pushed straight into live: the gate blocks it.
    await git(user.dir, 'pull', '-q', '--rebase');
    await user.write(`environments/${live}/web.yaml`, web('v3', ports[live]!));
    await user.push(`${live}: web version 3 without going through ${qa}`);
    await page.waitForFunction((l) => document.getElementById('live')?.textContent?.includes(`${l} blocked`) ?? false, live, { timeout: 60_000 });
    pollsAtBlock = await daemon.metric('stagecoach_git_remote_queries_total');

    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    const after = await pipeline(page);
    expect(after.map((e) => [e.name, e.state])).toEqual([
      [dev, 'synced'],
      [qa, 'synced'],
      [live, 'blocked'],
    ]);
    expect(after[0]!.rows).toEqual([['web', image('v2'), expect.stringMatching(/^running/), `${dev}`]]);
    expect(after[1]!.proposals).toEqual([expect.stringMatching(new RegExp(`^stagecoach/promote/${qa} [0-9a-f]{7}: web=${image('v2').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`))]);
    expect(after[1]!.rows).toEqual([['web', image('v1'), expect.stringMatching(/^running/), `${qa}, ${live}`]]);
    // Blocked: live keeps running what was proven; the gate names what it was asked for.
    expect(after[2]!.rows).toEqual([['web', image('v1'), expect.stringMatching(/^running/), `${qa}, ${live}`]]);
    expect(after[2]!.gate).toContain(`Gate from ${qa}: blocked`);
    expect(after[2]!.gate).toContain(`image ${image('v3')} of service web has no passing marker in ${qa}`);
    const liveText = await page.locator(`li[data-environment="${live}"]`).innerText();
    expect(liveText).toMatch(/Recent decisions \(\d+ of \d+\)/);
    const footer = await page.locator('footer').boundingBox();
    await page.screenshot({ path: await artifactPath('page', '2-proposal-and-block.png'), clip: { x: 0, y: 0, width: 1440, height: Math.ceil((footer?.y ?? 880) + (footer?.height ?? 20)) } });

    // Contrast: every piece of text against the background it is drawn on, WCAG 2 ratio >= 4.5.
    const lowContrast = await page.evaluate(() => {
      const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
      const lum = ([r, g, b]: number[]) => {
        const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
      };
      const background = (el: Element | null): number[] => {
        for (; el; el = el.parentElement) {
          const c = rgb(getComputedStyle(el).backgroundColor);
          if (c.length === 3 || (c[3] ?? 0) > 0) return c.slice(0, 3);
        }
        return [255, 255, 255];
      };
      const out: string[] = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement!;
        if (!n.textContent?.trim() || el.closest('.visually-hidden, .skip')) continue;
        const fg = lum(rgb(getComputedStyle(el).color));
        const bg = lum(background(el));
        const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
        if (ratio < 4.5) out.push(`${ratio.toFixed(2)} ${n.textContent.trim().slice(0, 30)}`);
      }
      return out;
    });
    expect(lowContrast).toEqual([]);

    // Keyboard: the skip link comes first and lands in the pipeline; the decisions open with Enter and stay open across updates.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to the pipeline');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('pipeline');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.tagName + ' ' + document.activeElement?.parentElement?.id)).toBe(`SUMMARY decisions-${dev}`);
    await page.keyboard.press('Enter');
    const stamp = await page.getAttribute('#pipeline', 'data-updated');
    await page.waitForFunction((s) => document.getElementById('pipeline')?.getAttribute('data-updated') !== s, stamp, { timeout: 10_000 });
    expect(await page.evaluate((d) => (document.getElementById(`decisions-${d}`) as HTMLDetailsElement).open, dev)).toBe(true);
    const headings = await page.getByRole('heading', { level: 2 }).allInnerTexts();
    expect(headings.map((h) => h.split(/\s/)[0])).toEqual([dev, qa, live]);
    expect(await page.getByRole('main').count()).toBe(1);
    expect(await page.getByRole('banner').count()).toBe(1);
    expect(await page.getByRole('contentinfo').count()).toBe(1);
    expect(foreign).toEqual([]);
    await page.close();
  });

  it('reads the same without JavaScript (server-rendered)', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    // After a periodic drift check (every 10th poll) at live's last good revision: the gate still holds.
    await waitFor(async () => (await daemon.metric('stagecoach_git_remote_queries_total')) > pollsAtBlock + 10 || undefined, { timeoutMs: 30_000, intervalMs: 200, what: 'a periodic drift check after the block' });
    await page.goto(`${daemon.base}/`);
    const shown = await pipeline(page);
    expect(shown.map((e) => [e.name, e.state])).toEqual([
      [dev, 'synced'],
      [qa, 'synced'],
      [live, 'blocked'],
    ]);
    expect(await page.locator('#updates').innerText()).toBe('Without JavaScript, reload for the latest state.');
    await page.screenshot({ path: await artifactPath('page', '3-no-javascript.png'), fullPage: true });
    await context.close();
  });

  it('told the receiver about the deploys, verifications, the blocks and the proposal, signed', async () => {
    const ours = new Set([dev, qa, live]);
    expect(receiver.received.length).toBeGreaterThan(0);
    expect(receiver.received.every((r) => r.signatureOk === true)).toBe(true);
    const events = receiver.signedEvents().filter((e) => ours.has(e.environment as string));
    const kinds = new Set(events.map((e) => `${e.event as string} ${e.environment as string}`));
    for (const want of [`deploy ${dev}`, `deploy ${qa}`, `deploy ${live}`, `verification.passed ${dev}`, `verification.passed ${qa}`, `verification.passed ${live}`, `block ${live}`, `proposal ${qa}`]) expect(kinds).toContain(want);
    const proposal = events.find((e) => e.event === 'proposal' && (e.services as { image: string }[])[0]?.image === image('v2'));
    expect(proposal).toMatchObject({ environment: qa, proposal: { branch: `stagecoach/promote/${qa}`, from: dev }, services: [{ name: 'web', image: image('v2') }] });
    const block = events.filter((e) => e.event === 'block' && e.environment === live).at(-1);
    expect(block?.reasons).toEqual([expect.stringContaining(`image ${image('v3')} of service web has no passing marker in ${qa}`)]);
    expect(await daemon.metric('stagecoach_notifications_delivered_total', 'sink="receiver"')).toBe(receiver.received.length);
    expect(daemon.output).not.toContain(hookKey);
  });
});
