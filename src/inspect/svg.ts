/**
 * Draws a machine graph as inline SVG, server-side, with a small layered layout of its
 * own: no Mermaid, no CDN, nothing for the browser to fetch. Top-level states go in
 * columns by their distance from the initial state; a compound state (`online`) is one
 * box whose children are stacked top to bottom inside it. Transitions between the same
 * two states are merged into one arrow labelled with their events (the full labels,
 * guards included, are the arrow's tooltip).
 *
 * Every leaf is `<g class="state" data-state="<key>">`, every arrow
 * `<g class="edge" data-from="…" data-to="…" data-covers="…" data-enters="…">`
 * (`covers`: the leaf states an arrow leaves from, so `open → reconnecting` finds the
 * arrow drawn from `online`; `enters`: the leaf it ends in, `open` for an arrow into
 * `online`): the page highlights them by these attributes. Arrow labels are placed by
 * labels.ts.
 */
import { type Box, curveLabelSpots, type Labelled, loopLabelSpots, placeLabels } from './labels.js';
import type { GraphState, GraphTransition, MachineGraph } from './machine-graph.js';

/** Leaf box height and the minimum width; wide enough for "reconnecting" at 13 px. */
const LEAF_H = 34;
const LEAF_MIN_W = 96;
/** Approximate advance of one character of the 13 px state font. */
const CHAR_W = 7.6;
/** Horizontal room between columns: the arrow labels live there. */
const COLUMN_GAP = 170;
/** Vertical room between states of one column. */
const ROW_GAP = 56;
/** Inside a compound: padding, title bar, and room between stacked children for labels. */
const PAD = 16;
const TITLE_H = 22;
const CHILD_GAP = 56;
const MARGIN = 24;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Sizes of every state (compound sizes from their stacked children). */
function measure(
  graph: MachineGraph,
  id: string,
  sizes: Map<string, { w: number; h: number }>,
): { w: number; h: number } {
  const s = graph.states.get(id)!;
  let size: { w: number; h: number };
  if (s.children.length === 0) {
    size = { w: Math.max(LEAF_MIN_W, Math.ceil(s.key.length * CHAR_W) + 28), h: LEAF_H };
  } else {
    const kids = s.children.map((c) => measure(graph, c, sizes));
    const w = Math.max(LEAF_MIN_W, ...kids.map((k) => k.w)) + 2 * PAD;
    const h = TITLE_H + PAD + kids.reduce((n, k) => n + k.h, 0) + CHILD_GAP * (kids.length - 1) + PAD;
    size = { w, h };
  }
  sizes.set(id, size);
  return size;
}

/** The top-level state containing `id`. */
function topOf(graph: MachineGraph, id: string): string {
  let s: GraphState = graph.states.get(id)!;
  while (s.parent) s = graph.states.get(s.parent)!;
  return s.id;
}

/** Column of each top-level state: breadth-first distance from the initial state. */
function columns(graph: MachineGraph): string[][] {
  const next = new Map<string, string[]>(graph.top.map((t) => [t, []]));
  for (const t of graph.transitions) {
    const a = topOf(graph, t.from);
    const b = topOf(graph, t.to);
    if (a !== b) next.get(a)!.push(b);
  }
  const rank = new Map<string, number>();
  const start = graph.initial ?? graph.top[0];
  if (start) rank.set(start, 0);
  const queue = start ? [start] : [];
  while (queue.length) {
    const n = queue.shift()!;
    for (const m of next.get(n) ?? []) {
      if (rank.has(m)) continue;
      rank.set(m, rank.get(n)! + 1);
      queue.push(m);
    }
  }
  // Unreachable states (none today) go in a last column rather than vanish.
  const last = Math.max(0, ...rank.values()) + 1;
  const cols: string[][] = [];
  for (const t of graph.top) (cols[rank.get(t) ?? last] ??= []).push(t);
  return cols.filter(Boolean);
}

function place(
  graph: MachineGraph,
  id: string,
  x: number,
  y: number,
  sizes: Map<string, { w: number; h: number }>,
  boxes: Map<string, Box>,
): void {
  const { w, h } = sizes.get(id)!;
  boxes.set(id, { x, y, w, h });
  const s = graph.states.get(id)!;
  let cy = y + TITLE_H + PAD;
  for (const c of s.children) {
    const cs = sizes.get(c)!;
    place(graph, c, x + (w - cs.w) / 2, cy, sizes, boxes);
    cy += cs.h + CHILD_GAP;
  }
}

/** Where the segment from the centre of `b` towards (tx, ty) leaves the box. */
function border(b: Box, tx: number, ty: number): [number, number] {
  const cx = b.x + b.w / 2;
  const cy = b.y + b.h / 2;
  const dx = tx - cx;
  const dy = ty - cy;
  if (dx === 0 && dy === 0) return [cx, cy];
  const s = Math.min(dx === 0 ? Infinity : b.w / 2 / Math.abs(dx), dy === 0 ? Infinity : b.h / 2 / Math.abs(dy));
  return [cx + dx * s, cy + dy * s];
}

/** The leaf a transition into `id` ends in (a compound enters its initial child). */
function entered(graph: MachineGraph, id: string): string {
  const s = graph.states.get(id)!;
  return s.initial ? entered(graph, s.initial) : s.key;
}

function leavesUnder(graph: MachineGraph, id: string): string[] {
  const s = graph.states.get(id)!;
  return s.children.length === 0 ? [s.key] : s.children.flatMap((c) => leavesUnder(graph, c));
}

/**
 * Events a user sends (`Connect`, `Logout`, …; commands are imperative, facts past
 * tense): their arrows reach the resting states from almost everywhere, so they are
 * drawn faint and dashed, labelled only in their tooltip, to keep the facts readable.
 */
export const COMMAND_EVENTS = new Set(['Connect', 'Disconnect', 'Logout', 'Pair', 'Recycle', 'Send', 'Expire']);

/** Bends tried in order until the arrow clears every box it does not start or end in. */
const BENDS = [1, -1, 2.2, -2.2, 3.6, -3.6, 5.2, -5.2];

function quad(x1: number, y1: number, mx: number, my: number, x2: number, y2: number, t: number): [number, number] {
  const u = 1 - t;
  return [u * u * x1 + 2 * u * t * mx + t * t * x2, u * u * y1 + 2 * u * t * my + t * t * y2];
}

/** An arrow's drawing, and where its label may go (best first). */
type Edge = Labelled & { open: string; path: string };

function edgeOf(
  graph: MachineGraph,
  from: string,
  to: string,
  group: GraphTransition[],
  boxes: Map<string, Box>,
  obstacles: Box[],
): Edge {
  const a = boxes.get(from)!;
  const b = boxes.get(to)!;
  const events = [...new Set(group.map((t) => t.event))];
  const command = events.every((e) => COMMAND_EVENTS.has(e));
  const title = esc(group.map((t) => t.label).join('\n'));
  const text = esc(events.filter((e) => !COMMAND_EVENTS.has(e)).join(', '));
  const open = `<g class="edge${command ? ' command' : ''}" data-from="${esc(graph.states.get(from)!.key)}" data-to="${esc(graph.states.get(to)!.key)}" data-covers="${esc(leavesUnder(graph, from).join(' '))}" data-enters="${esc(entered(graph, to))}" data-events="${esc(events.join(' '))}"><title>${title}</title>`;
  if (from === to) {
    // A self-loop: an arc over the box's top edge; its label above it, beside it, or higher up.
    const x1 = a.x + a.w * 0.3;
    const x2 = a.x + a.w * 0.7;
    const spots = loopLabelSpots(a, text);
    return {
      open,
      path: `<path d="M${x1},${a.y} C${x1},${a.y - 34} ${x2},${a.y - 34} ${x2},${a.y}" marker-end="url(#arrow)"/>`,
      text,
      spots,
    };
  }
  const [x1, y1] = border(a, b.x + b.w / 2, b.y + b.h / 2);
  const [x2, y2] = border(b, a.x + a.w / 2, a.y + a.h / 2);
  const dx = x2 - x1;
  const dy = y2 - y1;
  const len = Math.hypot(dx, dy) || 1;
  const base = Math.min(50, 10 + len * 0.1);
  // Positive bends go to the right of the direction of travel, so A→B and B→A part.
  const others = obstacles.filter((o) => !contains(o, a) && !contains(o, b) && !contains(a, o) && !contains(b, o));
  let mx = 0;
  let my = 0;
  for (const k of BENDS) {
    mx = (x1 + x2) / 2 - (dy / len) * base * k;
    my = (y1 + y2) / 2 + (dx / len) * base * k;
    let clear = true;
    for (let t = 0.08; t < 0.93 && clear; t += 0.06) {
      const [px, py] = quad(x1, y1, mx, my, x2, y2, t);
      clear = !others.some((o) => px > o.x - 4 && px < o.x + o.w + 4 && py > o.y - 4 && py < o.y + o.h + 4);
    }
    if (clear) break;
  }
  const spots = curveLabelSpots((t) => quad(x1, y1, mx, my, x2, y2, t), -dy / len, dx / len);
  return {
    open,
    path: `<path d="M${r1(x1)},${r1(y1)} Q${r1(mx)},${r1(my)} ${r1(x2)},${r1(y2)}" marker-end="url(#arrow)"/>`,
    text,
    spots,
  };
}

const r1 = (n: number) => Math.round(n * 10) / 10;

const contains = (outer: Box, inner: Box) =>
  inner.x >= outer.x &&
  inner.y >= outer.y &&
  inner.x + inner.w <= outer.x + outer.w &&
  inner.y + inner.h <= outer.y + outer.h;

/** The whole graph as one `<svg>` element (no width/height: it scales to its container). */
export function renderMachineSvg(graph: MachineGraph): string {
  const sizes = new Map<string, { w: number; h: number }>();
  for (const t of graph.top) measure(graph, t, sizes);
  const boxes = new Map<string, Box>();
  const cols = columns(graph);
  const heights = cols.map((col) => col.reduce((n, id) => n + sizes.get(id)!.h, 0) + ROW_GAP * (col.length - 1));
  const height = Math.max(...heights) + 2 * MARGIN + 40;
  let x = MARGIN;
  cols.forEach((col, i) => {
    const colW = Math.max(...col.map((id) => sizes.get(id)!.w));
    // Centre each column vertically; the 40 px on top leave room for self-loops.
    let y = MARGIN + 40 + (height - 2 * MARGIN - 40 - heights[i]!) / 2;
    for (const id of col) {
      const s = sizes.get(id)!;
      place(graph, id, x + (colW - s.w) / 2, y, sizes, boxes);
      y += s.h + ROW_GAP;
    }
    x += colW + COLUMN_GAP;
  });
  const width = x - COLUMN_GAP + MARGIN;

  const groups = new Map<string, GraphTransition[]>();
  for (const t of graph.transitions) {
    const key = `${t.from}\u0000${t.to}`;
    const g = groups.get(key);
    if (g) g.push(t);
    else groups.set(key, [t]);
  }

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="machine" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" role="img" aria-label="account machine">`,
  );
  out.push(
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>',
  );
  // Compounds first (behind), then arrows, then leaves on top so state names stay readable.
  for (const [id, b] of boxes) {
    const s = graph.states.get(id)!;
    if (s.children.length === 0) continue;
    out.push(
      `<g class="compound" data-state="${esc(s.key)}"><rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="10"/><text x="${b.x + 10}" y="${b.y + 16}">${esc(s.key)}</text></g>`,
    );
  }
  const obstacles = [...boxes.values()];
  // Facts drawn last, over the faint command arrows.
  const ordered = [...groups.values()].sort(
    (g1, g2) =>
      Number(g2.every((t) => COMMAND_EVENTS.has(t.event))) - Number(g1.every((t) => COMMAND_EVENTS.has(t.event))),
  );
  const edges = ordered.map((group) => edgeOf(graph, group[0]!.from, group[0]!.to, group, boxes, obstacles));
  // Labels keep clear of leaf boxes and of each compound's title bar.
  const keepClear = [...boxes].map(([id, b]) =>
    graph.states.get(id)!.children.length === 0 ? b : { x: b.x, y: b.y, w: b.w, h: TITLE_H },
  );
  const spots = placeLabels(edges, keepClear);
  for (const e of edges) {
    const at = spots.get(e);
    out.push(
      `${e.open}${e.path}${at ? `<text x="${r1(at[0])}" y="${r1(at[1])}" dominant-baseline="central">${e.text}</text>` : ''}</g>`,
    );
  }
  for (const [id, b] of boxes) {
    const s = graph.states.get(id)!;
    if (s.children.length > 0) continue;
    const initial = graph.initial === id ? ' initial' : '';
    out.push(
      `<g class="state${initial}" data-state="${esc(s.key)}"><rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="8"/><text x="${b.x + b.w / 2}" y="${b.y + b.h / 2 + 4.5}">${esc(s.key)}</text></g>`,
    );
  }
  out.push('</svg>');
  return out.join('\n');
}
