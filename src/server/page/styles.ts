/**
 * The page's stylesheet, served by the daemon (no CDN). Colours keep at least
 * 4.5:1 contrast with their background; state is always written out, never
 * shown by colour alone; focus is always visible.
 */
export const pipelineCss = `
:root { --fg: #1b1f24; --muted: #4a5360; --bg: #f6f7f9; --card: #ffffff; --line: #c9ced6; --focus: #1746c4;
  --ok-fg: #0b5d2a; --ok-bg: #dcf3e3; --bad-fg: #8a1111; --bad-bg: #fbe1e1; --warn-fg: #6b4700; --warn-bg: #fdf0c8; --info-fg: #1a3f8f; --info-bg: #e1e9fb; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header, footer, main { padding: 0 1.5rem; }
header h1 { font-size: 1.4rem; margin: 1rem 0 .25rem; }
footer { color: var(--muted); font-size: .85rem; padding-bottom: 1.5rem; }
a { color: var(--focus); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
main:focus { outline: none; }
.skip { position: absolute; left: -999px; top: .5rem; background: var(--card); padding: .5rem 1rem; }
.skip:focus { left: .5rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.source { color: var(--muted); margin: .25rem 0 1rem; }
.remote-error { background: var(--bad-bg); color: var(--bad-fg); padding: .5rem .75rem; border-radius: .4rem; }
.pipeline { list-style: none; margin: 0; padding: 0; display: flex; gap: 2.2rem; align-items: flex-start; overflow-x: auto; padding-bottom: 1rem; }
.stage { position: relative; flex: 1 0 22rem; max-width: 34rem; }
.stage + .stage::before { content: "→"; position: absolute; left: -1.7rem; top: .6rem; font-size: 1.3rem; color: var(--muted); }
.environment { background: var(--card); border: 1px solid var(--line); border-top: 6px solid var(--line); border-radius: .5rem; padding: .75rem 1rem 1rem; }
.state-synced { border-top-color: #1f8a4c; }
.state-blocked, .state-degraded, .state-invalid, .state-unreachable { border-top-color: #c62828; }
.state-progressing, .state-out-of-sync { border-top-color: #b7791f; }
.environment h2 { font-size: 1.2rem; margin: 0 0 .5rem; display: flex; gap: .6rem; align-items: center; }
.environment h3 { font-size: .95rem; margin: .9rem 0 .3rem; }
.badge { font-size: .8rem; font-weight: 600; padding: .1rem .5rem; border-radius: 1rem; background: var(--info-bg); color: var(--info-fg); }
.badge-synced, .badge-open, .badge-passed { background: var(--ok-bg); color: var(--ok-fg); }
.badge-blocked, .badge-degraded, .badge-invalid, .badge-unreachable, .badge-failed { background: var(--bad-bg); color: var(--bad-fg); }
.badge-progressing, .badge-out-of-sync { background: var(--warn-bg); color: var(--warn-fg); }
.revisions { display: grid; grid-template-columns: auto 1fr auto 1fr auto 1fr; gap: .1rem .4rem; margin: 0 0 .5rem; color: var(--muted); }
.revisions dd { margin: 0 .6rem 0 0; color: var(--fg); }
.gate p { margin: .3rem 0; }
.reasons, .errors { margin: .2rem 0; padding-left: 1.2rem; color: var(--bad-fg); }
table.services { border-collapse: collapse; width: 100%; margin-top: .5rem; }
.services caption { text-align: left; font-weight: 600; font-size: .95rem; padding: .3rem 0; }
.services th, .services td { text-align: left; vertical-align: top; padding: .3rem .4rem; border-top: 1px solid var(--line); }
.services thead th { color: var(--muted); font-weight: 600; font-size: .85rem; }
code { font: .85em ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
.wanted { color: var(--warn-fg); }
.verified { color: var(--ok-fg); }
.verified::before { content: "✓ "; }
.unverified { color: var(--bad-fg); }
.none { color: var(--muted); }
.tests, .proposals { padding-left: 1.2rem; margin: .2rem 0; }
.tests .result { font-weight: 600; }
.test-passed .result { color: var(--ok-fg); }
.test-failed .result { color: var(--bad-fg); }
.tests .message { color: var(--muted); }
.decisions { margin-top: .8rem; }
.decisions summary { cursor: pointer; font-weight: 600; }
.decisions ol { padding-left: 1.2rem; margin: .3rem 0; font-size: .9rem; }
.decisions time, .proposals time { color: var(--muted); font-size: .85em; }
.kind { font-weight: 600; }
@media (max-width: 48rem) { .pipeline { flex-direction: column; } .stage { flex-basis: auto; max-width: none; width: 100%; } .stage + .stage::before { content: "↓"; left: 1rem; top: -1.7rem; } }
@media (prefers-reduced-motion: no-preference) { .changed { animation: flash 1.2s ease-out; } @keyframes flash { from { background: var(--warn-bg); } to { background: var(--card); } } }
`;
