/**
 * The page's only script, served by the daemon. It enhances the
 * server-rendered page: every few seconds it asks for the pipeline fragment
 * and swaps it in when it changed, keeping keyboard focus and open
 * "Recent decisions" where they were, and tells screen readers (aria-live)
 * when an environment's state changed. Without it the page still reads.
 */
export const pipelineJs = `(function () {
  'use strict';
  var main = document.getElementById('pipeline');
  var live = document.getElementById('live');
  var note = document.getElementById('updates');
  if (!main || !window.fetch) return;
  var url = main.getAttribute('data-poll');
  var interval = 2000;
  var lastHtml = null;
  var lastAnnounce = live ? live.textContent : '';
  var failures = 0;
  if (note) note.textContent = 'Updates live.';

  function states() {
    var out = {};
    var items = main.querySelectorAll('[data-environment]');
    for (var i = 0; i < items.length; i++) {
      var badge = items[i].querySelector('[data-state]');
      out[items[i].getAttribute('data-environment')] = badge ? badge.getAttribute('data-state') : '';
    }
    return out;
  }

  function swap(html) {
    var active = document.activeElement;
    var focusId = active && main.contains(active) && active !== main ? (active.id || (active.parentElement && active.parentElement.id)) : null;
    var focusIsSummary = active && active.tagName === 'SUMMARY';
    var open = [];
    var details = main.querySelectorAll('details[open]');
    for (var i = 0; i < details.length; i++) if (details[i].id) open.push(details[i].id);
    var before = states();
    main.innerHTML = html;
    for (var j = 0; j < open.length; j++) {
      var d = document.getElementById(open[j]);
      if (d) d.open = true;
    }
    if (focusId) {
      var el = document.getElementById(focusId);
      if (el && focusIsSummary && el.tagName === 'DETAILS') el = el.querySelector('summary');
      if (el) el.focus();
    }
    var after = states();
    for (var name in after) {
      if (before[name] !== after[name]) {
        var item = main.querySelector('[data-environment="' + (window.CSS && CSS.escape ? CSS.escape(name) : name) + '"] article');
        if (item) item.classList.add('changed');
      }
    }
  }

  function schedule() {
    setTimeout(poll, Math.min(interval * Math.pow(2, failures), 30000));
  }

  function poll() {
    if (document.hidden) return schedule();
    fetch(url, { cache: 'no-store', headers: { accept: 'application/json' } })
      .then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(function (update) {
        failures = 0;
        if (note) note.textContent = 'Updates live.';
        if (lastHtml === null) lastHtml = main.innerHTML.trim() === update.html.trim() ? update.html : '';
        if (update.html !== lastHtml) {
          lastHtml = update.html;
          swap(update.html);
        }
        if (live && update.announce !== lastAnnounce) {
          lastAnnounce = update.announce;
          live.textContent = update.announce;
        }
        main.setAttribute('data-updated', new Date().toISOString());
      })
      .catch(function () {
        failures = Math.min(failures + 1, 4);
        if (note) note.textContent = 'The daemon does not answer; retrying.';
      })
      .then(schedule);
  }

  schedule();
})();
`;
