import { imageStatusHtml } from '../../images/status-view.js';
import { esc, rev, time } from './html.js';
import { renderEnvironment } from './render-environment.js';
import { announcement, pipelineView } from './view.js';
import type { PageStatus } from './view.js';

export const assetPaths = { css: '/assets/pipeline.css', js: '/assets/pipeline.js' } as const;
/** Where the page's script polls for a fresh fragment. */
export const pipelinePath = '/api/v1/pipeline';

/** The pipeline itself: what the script swaps in on every change. Pure. */
export function renderPipeline(status: PageStatus): string {
  const views = pipelineView(status);
  const remote = status.remote.error
    ? `<p class="remote-error" role="alert"><strong>The config repo cannot be reached:</strong> ${esc(status.remote.error)}</p>`
    : '';
  const envs = views.length ? `<ol class="pipeline" aria-label="Environments in promotion order">${views.map(renderEnvironment).join('\n')}</ol>` : '<p class="none">No environments yet: the daemon is reading the config repo.</p>';
  return `<p class="source"><code>${esc(status.repo)}</code> on <code>${esc(status.branch)}</code> · remote head ${rev(status.remote.head)} ${status.remote.checkedAt ? `checked ${time(status.remote.checkedAt)}` : ''} · ${status.ready ? 'ready' : 'starting'}</p>
${remote}${envs}${imageStatusHtml(status.images, esc)}`;
}

/** The whole page, server-rendered (readable without JavaScript); the script only keeps it current. */
export function renderPage(status: PageStatus): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>stagecoach pipeline</title>
<link rel="stylesheet" href="${assetPaths.css}">
<script src="${assetPaths.js}" defer></script>
</head>
<body>
<a class="skip" href="#pipeline">Skip to the pipeline</a>
<header><h1>stagecoach pipeline</h1></header>
<main id="pipeline" tabindex="-1" data-poll="${pipelinePath}">
${renderPipeline(status)}
</main>
<p id="live" class="visually-hidden" role="status" aria-live="polite" aria-atomic="true">${esc(announcement(status))}</p>
<footer><p>Served by the stagecoach daemon. <span id="updates">Without JavaScript, reload for the latest state.</span> <a href="/api/v1/environments">Status as JSON</a> · <a href="/metrics">Metrics</a></p></footer>
</body>
</html>
`;
}

/** The answer to the script's poll: the fragment, and a line to announce when states change. */
export function pipelineUpdate(status: PageStatus): { html: string; announce: string } {
  return { html: renderPipeline(status), announce: announcement(status) };
}
