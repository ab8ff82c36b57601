import type { DaemonStatus } from '../daemon/status.js';
import { imageStatusHtml } from '../images/status-view.js';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A plain HTML page of every environment: state, revisions, services, errors and the latest decisions. */
export function statusPage(status: DaemonStatus): string {
  const envs = status.environments
    .map((e) => {
      const services = e.services.map((s) => `<tr><td>${escape(s.name)}</td><td><code>${escape(s.image ?? '-')}</code>${s.image !== s.desiredImage ? ` → <code>${escape(s.desiredImage)}</code>` : ''}</td><td>${escape(s.state)}${s.health !== 'none' ? ` (${escape(s.health)})` : ''}</td><td>${escape(s.lastAction ? `${s.lastAction.kind} ${s.lastAction.outcome}: ${s.lastAction.message}` : '')}</td></tr>`).join('');
      const errors = e.errors.map((x) => `<li><code>${escape(x)}</code></li>`).join('');
      const decisions = e.decisions.slice(0, 10).map((d) => `<li>${escape(d.at)} <b>${escape(d.kind)}</b> ${escape(d.reason)}</li>`).join('');
      return `<section><h2>${escape(e.name)} <small class="${escape(e.state)}">${escape(e.state)}</small></h2>
<p>desired <code>${escape(e.revision.desired?.slice(0, 7) ?? '-')}</code> · applied <code>${escape(e.revision.applied?.slice(0, 7) ?? '-')}</code> · last good <code>${escape(e.revision.lastGood?.slice(0, 7) ?? '-')}</code></p>
<table><tr><th>service</th><th>image</th><th>state</th><th>last action</th></tr>${services}</table>
${errors ? `<h3>errors</h3><ul>${errors}</ul>` : ''}${decisions ? `<h3>decisions</h3><ul>${decisions}</ul>` : ''}</section>`;
    })
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>stagecoach</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}td,th{padding:.2em .8em;text-align:left}small{padding:.1em .5em;border-radius:.3em;background:#eee}.synced{background:#cfc}.invalid,.degraded,.unreachable,.blocked{background:#fcc}.progressing,.out-of-sync{background:#ffc}</style></head>
<body><h1>stagecoach</h1><p>${escape(status.repo)} @ ${escape(status.branch)} · remote head <code>${escape(status.remote.head?.slice(0, 7) ?? '-')}</code>${status.remote.error ? ` · <b>remote error:</b> ${escape(status.remote.error)}` : ''} · ${status.ready ? 'ready' : 'starting'}</p>
${envs}${imageStatusHtml(status.images, escape)}</body></html>`;
}
