/**
 * The self-hosted inspector page: one HTML document with its CSS, script and the
 * machine graph (inline SVG) in it, so it works in a closed network with nothing to
 * fetch but its own event stream (`/inspect/events`, server-sent events).
 *
 * The graph container of the selected account carries `data-current="<state>"`; the
 * current state's box has class `current`, the arrow of the last transition `taken`.
 */
import { ICON_LINK } from '../http/icon.js';
import { machineGraph } from './machine-graph.js';
import { renderMachineSvg } from './svg.js';

let svg: string | null = null;
/** The graph is the same for every account and every request: drawn once. */
export function machineSvg(): string {
  svg ??= renderMachineSvg(machineGraph());
  return svg;
}

const CSS = `
:root { font-family: system-ui, sans-serif; color: #1d2330; background: #f6f7fb; }
body { margin: 0; }
header { display: flex; gap: 1.5rem; align-items: baseline; padding: .6rem 1rem; background: #1d2330; color: #fff; }
header h1 { font-size: 1.05rem; margin: 0; }
header .nats.down { color: #ff8a80; font-weight: 600; }
main { display: grid; grid-template-columns: 13rem 1fr; gap: 1rem; padding: 1rem; }
nav ul { list-style: none; margin: 0; padding: 0; }
nav li { padding: .45rem .6rem; border-radius: 6px; cursor: pointer; display: flex; justify-content: space-between; gap: .5rem; }
nav li.selected { background: #dfe4f5; font-weight: 600; }
nav .st { font-size: .8rem; color: #556; }
section.panel { background: #fff; border-radius: 8px; padding: .8rem 1rem; box-shadow: 0 1px 3px #0002; }
.facts { display: flex; gap: 2rem; margin: .2rem 0 .6rem; font-size: .95rem; }
.facts b { font-variant-numeric: tabular-nums; }
.graph svg { width: 100%; height: auto; max-height: 60vh; font-family: system-ui, sans-serif; }
.graph .state rect { fill: #eef0fa; stroke: #4a5273; stroke-width: 1.2; }
.graph .state text { text-anchor: middle; font-size: 13px; }
.graph .state.current rect { fill: #ffd54f; stroke: #b26a00; stroke-width: 3; }
.graph .state.current text { font-weight: 700; }
.graph .compound rect { fill: #fafafa; stroke: #99a; stroke-dasharray: 5 4; }
.graph .compound text { font-size: 12px; fill: #667; }
.graph .edge path { fill: none; stroke: #8a90a6; stroke-width: 1.1; }
.graph .edge.command path { stroke: #c9ccd8; stroke-dasharray: 3 3; }
.graph .edge text { font-size: 10px; text-anchor: middle; fill: #3a4160; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.graph .edge.taken path { stroke: #e65100; stroke-width: 2.6; }
.graph .edge.taken text { fill: #e65100; font-weight: 700; }
.graph marker path { fill: #8a90a6; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; margin-top: .6rem; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #e4e6ee; vertical-align: top; }
td.seq, td.at { font-variant-numeric: tabular-nums; color: #556; white-space: nowrap; }
tr.transition td.what { font-weight: 600; }
tr.fresh { animation: fresh 1.2s ease-out; }
@keyframes fresh { from { background: #fff3c4; } to { background: transparent; } }
.legend { font-size: .8rem; color: #667; }
`;

const SCRIPT = `
const panels = new Map();
let selected = null;
const $ = (s, el = document) => el.querySelector(s);
const fmtRtt = (ms) => (ms === null || ms === undefined ? '–' : Math.round(ms) + ' ms');
function describe(e) {
  switch (e.type) {
    case 'transition': return e.from + ' → ' + e.to + ' (' + e.event + ')';
    case 'keepalive': return 'keepalive ' + e.probe + ' ' + e.outcome + (e.rttMs !== undefined ? ' ' + Math.round(e.rttMs) + ' ms' : '');
    case 'send.queued': return 'send ' + e.id + ' queued (' + e.textLength + ' chars)';
    case 'send.sent': return 'send ' + e.id + ' sent';
    case 'send.acked': return 'send ' + e.id + ' acked (' + e.ack + ')';
    case 'send.failed': return 'send ' + e.id + ' failed: ' + e.error.code;
    case 'send.expired': return 'send ' + e.id + ' expired';
    case 'message.in': return 'message in from ' + e.from;
    case 'drop.pattern': return 'drops every ' + Math.round(e.periodMs / 1000) + ' s (confidence ' + e.confidence.toFixed(2) + ')';
    default: return e.type;
  }
}
function row(e, fresh) {
  const tr = document.createElement('tr');
  tr.className = e.type.replace('.', '-') + (e.type === 'transition' ? ' transition' : '') + (fresh ? ' fresh' : '');
  const cells = [e.seq, e.at.slice(11, 23), describe(e), e.reason ?? '', e.statusCode ?? ''];
  ['seq', 'at', 'what', 'reason', 'code'].forEach((cls, i) => { const td = document.createElement('td'); td.className = cls; td.textContent = String(cells[i]); tr.append(td); });
  return tr;
}
function renderNav() {
  const ul = $('nav ul');
  ul.replaceChildren();
  for (const p of [...panels.values()].sort((a, b) => a.account.localeCompare(b.account))) {
    const li = document.createElement('li');
    li.dataset.account = p.account;
    if (p.account === selected) li.className = 'selected';
    li.innerHTML = '<span class="name"></span><span class="st"></span>';
    $('.name', li).textContent = p.account;
    $('.st', li).textContent = p.state ?? '?';
    li.onclick = () => select(p.account);
    ul.append(li);
  }
}
function highlight(state, taken) {
  const graph = $('.graph');
  graph.dataset.current = state ?? '';
  graph.querySelectorAll('.state.current').forEach((n) => n.classList.remove('current'));
  if (state) graph.querySelector('.state[data-state="' + state + '"]')?.classList.add('current');
  graph.querySelectorAll('.edge.taken').forEach((n) => n.classList.remove('taken'));
  if (taken) {
    const edges = [...graph.querySelectorAll('.edge[data-enters="' + taken.to + '"]')];
    const edge = edges.find((n) => n.dataset.from === taken.from) ?? edges.find((n) => n.dataset.covers.split(' ').includes(taken.from));
    edge?.classList.add('taken');
  }
}
function renderFacts(p) {
  $('#account').textContent = p.account;
  $('#state').textContent = p.state ?? 'unknown';
  $('#outbox').textContent = String(p.outbox);
  $('#rtt').textContent = fmtRtt(p.lastRttMs);
}
function select(account) {
  selected = account;
  location.hash = encodeURIComponent(account);
  const p = panels.get(account);
  renderNav();
  renderFacts(p);
  const last = [...p.log].reverse().find((e) => e.type === 'transition');
  highlight(p.state, last);
  const body = $('#log tbody');
  body.replaceChildren(...[...p.log].reverse().map((e) => row(e, false)));
}
function apply(status) {
  const p = panels.get(status.account) ?? { log: [] };
  Object.assign(p, status);
  panels.set(status.account, p);
  return p;
}
const source = new EventSource('inspect/events');
source.addEventListener('hello', (m) => {
  const snap = JSON.parse(m.data);
  panels.clear();
  for (const p of snap.accounts) panels.set(p.account, p);
  setNats(snap.nats);
  const wanted = decodeURIComponent(location.hash.slice(1));
  const first = panels.has(wanted) ? wanted : [...panels.keys()].sort()[0];
  if (first) select(first); else renderNav();
});
source.addEventListener('event', (m) => {
  const { event, status } = JSON.parse(m.data);
  const p = apply(status);
  p.log.push(event);
  if (p.log.length > 200) p.log.shift();
  renderNav();
  if (status.account !== selected) return;
  renderFacts(p);
  if (event.type === 'transition') highlight(event.to, event);
  const body = $('#log tbody');
  body.prepend(row(event, true));
  while (body.children.length > 200) body.lastChild.remove();
});
source.addEventListener('status', (m) => {
  const p = apply(JSON.parse(m.data));
  renderNav();
  if (p.account === selected) { renderFacts(p); if ($('.graph').dataset.current !== (p.state ?? '')) highlight(p.state); }
});
source.addEventListener('nats', (m) => setNats(JSON.parse(m.data).connected));
function setNats(up) { const el = $('header .nats'); el.textContent = up ? 'NATS connected' : 'NATS disconnected: events wait in the gateway'; el.classList.toggle('down', !up); }
`;

export function inspectorPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wa-connd inspector</title>
${ICON_LINK}
<style>${CSS}</style>
</head>
<body>
<header><h1>wa-connd inspector</h1><span class="nats">…</span><span class="legend">What is shown was published to WA_EVENTS; message text is left out.</span></header>
<main>
<nav><ul></ul></nav>
<section class="panel">
<div class="facts"><span>account <b id="account">–</b></span><span>state <b id="state">–</b></span><span>outbox <b id="outbox">–</b></span><span>last keepalive <b id="rtt">–</b></span></div>
<div class="graph" data-current="">${machineSvg()}</div>
<div class="legend">Solid arrows: facts (socket, timers, probes); dashed: commands (Connect, Disconnect, Logout, Pair, Recycle). Hover an arrow for its guards.</div>
<table id="log"><thead><tr><th>seq</th><th>at (UTC)</th><th>event</th><th>reason</th><th>code</th></tr></thead><tbody></tbody></table>
</section>
</main>
<script>${SCRIPT}</script>
</body>
</html>`;
}
