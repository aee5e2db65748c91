/**
 * The self-hosted inspector page: one HTML document with its CSS, script and the
 * machine graph (inline SVG) in it, so it works in a closed network with nothing to
 * fetch but its own event stream (`/inspect/events`, server-sent events).
 *
 * The graph container of the selected account carries `data-current="<state>"`; the
 * current state's box has class `current`, the arrow of the last transition `taken`.
 */
import { ONLINE_STATES } from '../../machines/index.js';
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
.graph .edge.taken text { fill: #e65100; }
.graph marker path { fill: #8a90a6; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; margin-top: .6rem; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #e4e6ee; vertical-align: top; }
td.seq, td.at { font-variant-numeric: tabular-nums; color: #556; white-space: nowrap; }
tr.transition td.what { font-weight: 600; }
tr.liveness td { color: #667; }
tr.liveness td.what { font-style: italic; }
tr.drop td, tr.error td { background: #fdecea; }
tr.drop td.seq, tr.error td.seq { box-shadow: inset 4px 0 #c62828; }
tr.drop td.what, tr.drop td.code, tr.error td.what { color: #b71c1c; }
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
    case 'send.failed': return 'send ' + e.id + ' failed: ' + e.error.code + (e.statusCode !== undefined ? ' (' + e.statusCode + ' ' + e.reason + (e.retryable === false ? ', do not retry' : '') + ')' : '');
    case 'send.expired': return 'send ' + e.id + ' expired';
    case 'owner.acquired': return 'owner ' + e.writer + ' (' + e.host + ' pid ' + e.pid + ')' + (e.previous ? ' took over from ' + e.previous : '');
    case 'owner.released': return 'owner ' + e.writer + ' released (' + e.reason + ')';
    case 'owner.lost': return 'owner ' + e.writer + ' lost its lease to ' + e.by;
    case 'message.in': return 'message in from ' + e.from;
    case 'message.undecryptable': return 'undecryptable message from ' + e.from + ': ' + e.reason + ' (asked again)';
    case 'account.banned': return 'temporarily banned until ' + e.until;
    case 'drop.pattern': return 'drops every ' + Math.round(e.periodMs / 1000) + ' s (confidence ' + e.confidence.toFixed(2) + ')';
    case 'webhook.dead_lettered': return 'webhook ' + e.endpoint + ' gave up on ' + e.eventType + ' #' + e.eventSeq + ' (stream seq ' + e.streamSeq + ', ' + e.attempts + ' attempts' + (e.status !== undefined ? ', http ' + e.status : '') + ')';
    default: return e.type;
  }
}
const ONLINE = ${JSON.stringify(ONLINE_STATES)};
// A keepalive cycle (open → idle → pinging → open, its keepalive ok, inbound traffic
// resetting idle) says only "the link is fine": runs of them collapse into one row.
function liveness(e) {
  return (e.type === 'transition' && ONLINE.includes(e.from) && ONLINE.includes(e.to)) || (e.type === 'keepalive' && e.outcome === 'ok');
}
// Drops (a server close with a code, a dead link, a failed connect) and errors stand out.
function severity(e) {
  if (e.type === 'send.failed' || e.type === 'logged_out' || e.type === 'account.banned') return 'error';
  if (e.type === 'message.undecryptable') return 'drop';
  if (e.type === 'keepalive') return e.outcome === 'ok' ? '' : 'error';
  if (e.type !== 'transition') return '';
  if (e.to === 'loggedOut') return 'error';
  // 515: the server's "restart" after pairing, expected.
  if (e.statusCode !== undefined && e.statusCode !== 515) return 'drop';
  if (e.event === 'ProbeTimedOut' || e.event === 'ConnectTimedOut') return 'drop';
  // A close with no code outside a drain: the socket just went away.
  if (e.event === 'SocketClosed' && e.from !== 'draining' && e.to !== 'stopped') return 'drop';
  return '';
}
/** The log in order, runs of keepalive cycles grouped: [{ event }] or [{ run: [events] }]. */
function group(log) {
  const items = [];
  for (const e of log) {
    const last = items[items.length - 1];
    if (liveness(e) && last && last.run) last.run.push(e);
    else items.push(liveness(e) ? { run: [e] } : { event: e });
  }
  return items;
}
function tr(cls, cells, fresh) {
  const el = document.createElement('tr');
  el.className = cls + (fresh ? ' fresh' : '');
  ['seq', 'at', 'what', 'reason', 'code'].forEach((c, i) => { const td = document.createElement('td'); td.className = c; td.textContent = String(cells[i]); el.append(td); });
  return el;
}
function row(e, fresh) {
  const sev = severity(e);
  return tr(e.type.replace('.', '-') + (e.type === 'transition' ? ' transition' : '') + (sev ? ' ' + sev : ''), [e.seq, e.at.slice(11, 23), describe(e), e.reason ?? '', e.statusCode ?? ''], fresh);
}
function runRow(run) {
  const first = run[0];
  const last = run[run.length - 1];
  const probes = run.filter((e) => e.type === 'transition' && e.to === 'pinging').length;
  const rtt = [...run].reverse().find((e) => e.type === 'keepalive' && e.rttMs !== undefined);
  const what = 'keepalive: ' + probes + (probes === 1 ? ' probe' : ' probes') + ' (open → idle → pinging → open)' + (rtt ? ', last ' + Math.round(rtt.rttMs) + ' ms' : '') + ' · ' + run.length + ' events';
  const el = tr('liveness', [first.seq === last.seq ? first.seq : first.seq + '–' + last.seq, last.at.slice(11, 23), what, '', ''], false);
  el.dataset.probes = String(probes);
  el.dataset.events = String(run.length);
  return el;
}
const rowOf = (item) => (item.run ? runRow(item.run) : row(item.event, false));
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
  $('#owner').textContent = p.owner ?? '–';
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
  body.replaceChildren(...group(p.log).reverse().map(rowOf));
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
  renderWebhooks(snap.webhooks ?? []);
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
  const items = group(p.log);
  const top = items[items.length - 1];
  // A cycle continuing the run on top updates that row; anything else is a new row.
  if (top.run && top.run.length > 1 && body.firstElementChild?.classList.contains('liveness')) body.firstElementChild.replaceWith(runRow(top.run));
  else body.prepend(top.run ? runRow(top.run) : row(event, true));
  while (body.children.length > 200) body.lastChild.remove();
});
source.addEventListener('status', (m) => {
  const p = apply(JSON.parse(m.data));
  renderNav();
  if (p.account === selected) { renderFacts(p); if ($('.graph').dataset.current !== (p.state ?? '')) highlight(p.state); }
});
source.addEventListener('nats', (m) => setNats(JSON.parse(m.data).connected));
source.addEventListener('webhooks', (m) => renderWebhooks(JSON.parse(m.data)));
function renderWebhooks(list) {
  const el = $('#webhooks');
  el.hidden = list.length === 0;
  const body = $('tbody', el);
  body.replaceChildren(...list.map((w) => {
    const el = document.createElement('tr');
    el.dataset.webhook = w.id;
    [w.id, w.origin, w.source, w.held, w.delivered, w.failedAttempts, w.deadLettered, w.lastFailure ?? ''].forEach((v) => { const td = document.createElement('td'); td.textContent = String(v); el.append(td); });
    return el;
  }));
}
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
<div class="facts"><span>account <b id="account">–</b></span><span>state <b id="state">–</b></span><span>outbox <b id="outbox">–</b></span><span>last keepalive <b id="rtt">–</b></span><span>owner <b id="owner">–</b></span></div>
<div class="graph" data-current="">${machineSvg()}</div>
<div class="legend">Solid arrows: facts (socket, timers, probes); dashed: commands (Connect, Disconnect, Logout, Pair, Recycle). Hover an arrow for its guards.</div>
<table id="webhooks" hidden><caption>webhook endpoints (docs/webhooks.md)</caption><thead><tr><th>endpoint</th><th>origin</th><th>source</th><th>held</th><th>delivered</th><th>failed attempts</th><th>dead-lettered</th><th>last failure</th></tr></thead><tbody></tbody></table>
<table id="log"><thead><tr><th>seq</th><th>at (UTC)</th><th>event</th><th>reason</th><th>code</th></tr></thead><tbody></tbody></table>
</section>
</main>
<script>${SCRIPT}</script>
</body>
</html>`;
}
