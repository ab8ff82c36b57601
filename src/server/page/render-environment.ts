import { esc, idOf, rev, time } from './html.js';
import type { EnvironmentView, PageEnvironment, ServiceView } from './view.js';

const maxDecisions = 8;

const list = (items: string[], cls: string) => (items.length ? `<ul class="${cls}">${items.map((i) => `<li>${i}</li>`).join('')}</ul>` : '');

function gate(env: PageEnvironment): string {
  if (!env.gate) return '<p class="gate">No gate: deploys what git says.</p>';
  const state = env.gate.state === 'open' ? 'open' : 'blocked';
  const reasons = env.blocked.map((r) => esc(r));
  return `<div class="gate gate-${state}"><p>Gate from <strong>${esc(env.gate.from)}</strong>: <span class="badge badge-${state}">${state}</span></p>${list(reasons, 'reasons')}</div>`;
}

function image(s: ServiceView): string {
  const running = s.image ? `<code>${esc(s.image)}</code>` : '<span class="none">not running</span>';
  const wanted = s.wanted ? `<br><span class="wanted">wants <code>${esc(s.wanted)}</code></span>` : '';
  return `${running}${wanted}`;
}

function verified(s: ServiceView): string {
  if (s.verifiedIn.length === 0) return '<span class="unverified">not verified</span>';
  return `<span class="verified">${s.verifiedIn.map((e) => esc(e)).join(', ')}</span>`;
}

function services(view: EnvironmentView): string {
  if (view.services.length === 0) return '<p class="none">No services yet.</p>';
  const rows = view.services
    .map((s) => `<tr><th scope="row">${esc(s.name)}</th><td>${image(s)}</td><td>${esc(s.state)}${s.health !== 'none' ? ` (${esc(s.health)})` : ''}${s.tasks ? `<br><span class="tasks">${esc(s.tasks)}</span>` : ''}</td><td>${verified(s)}</td></tr>`)
    .join('');
  return `<table class="services"><caption>Services of ${esc(view.env.name)}</caption><thead><tr><th scope="col">service</th><th scope="col">image</th><th scope="col">state</th><th scope="col">verified in</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function marker(env: PageEnvironment): string {
  const m = env.lastMarker;
  if (!m) return '<h3>Last marker</h3><p class="none">No marker yet.</p>';
  const head = `<p><span class="badge badge-${m.result === 'passed' ? 'open' : 'blocked'}">${esc(m.result)}</span> at ${rev(m.revision)} · marker ${rev(m.commit)} ${time(m.at)}</p>`;
  const tests = m.results?.length
    ? `<ul class="tests">${m.results.map((t) => `<li class="test-${t.result === 'passed' ? 'passed' : 'failed'}"><span class="result">${esc(t.result)}</span> ${esc(t.name)}<span class="message">: ${esc(t.message)}</span></li>`).join('')}</ul>`
    : `<p>${esc(m.tests)}</p>`;
  return `<h3>Last marker</h3>${head}${tests}`;
}

function proposals(env: PageEnvironment): string {
  if (env.proposals.length === 0) return '';
  const items = env.proposals.map(
    (p) => `<li><code>${esc(p.branch)}</code> ${p.commit ? rev(p.commit) : ''}${p.images.length ? `: ${p.images.map((i) => `<code>${esc(i)}</code>`).join(', ')}` : ''} ${time(p.at)}</li>`,
  );
  return `<h3>Waiting for a person</h3><ul class="proposals">${items.join('')}</ul>`;
}

function decisions(env: PageEnvironment): string {
  if (env.decisions.length === 0) return '';
  const items = env.decisions
    .slice(0, maxDecisions)
    .map((d) => `<li>${time(d.at)} <span class="kind kind-${esc(d.kind)}">${esc(d.kind)}</span>${d.service ? ` <code>${esc(d.service)}</code>` : ''} ${esc(d.reason)}</li>`);
  return `<details id="${idOf('decisions', env.name)}" class="decisions"><summary>Recent decisions (${Math.min(env.decisions.length, maxDecisions)} of ${env.decisions.length})</summary><ol>${items.join('')}</ol></details>`;
}

/** One environment as a card: state, revisions, services and where their images were verified, gate, marker, proposals, decisions. */
export function renderEnvironment(view: EnvironmentView): string {
  const { env } = view;
  const heading = idOf('env', env.name);
  const errors = env.errors.length ? `<h3>Problems</h3>${list(env.errors.map((e) => `<code>${esc(e)}</code>`), 'errors')}` : '';
  return `<li class="stage" data-environment="${esc(env.name)}" data-stage="${view.stage}">
<article aria-labelledby="${heading}" class="environment state-${esc(env.state)}">
<h2 id="${heading}">${esc(env.name)}${env.target === 'swarm' ? ' <span class="target">Swarm</span>' : ''} <span class="badge badge-${esc(env.state)}" data-state="${esc(env.state)}">${esc(env.state)}</span></h2>
<dl class="revisions"><dt>desired</dt><dd>${rev(env.revision.desired)}</dd><dt>applied</dt><dd>${rev(env.revision.applied)}</dd><dt>last good</dt><dd>${rev(env.revision.lastGood)}</dd></dl>
${gate(env)}
${services(view)}
${errors}${marker(env)}
${proposals(env)}
${decisions(env)}
</article></li>`;
}
