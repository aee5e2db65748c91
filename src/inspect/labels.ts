/**
 * Where the arrow labels of the machine graph go. Apart from svg.ts (which lays out the
 * boxes and draws the arrows) because placing labels is its own small search: each arrow
 * offers candidate spots, best first, and each label takes the first spot that overlaps
 * nothing placed before it.
 */

/**
 * Arrow labels (10 px): the widest advance per character measured in Chromium with
 * DejaVu Sans (Debian's default sans; 6.07 px), rounded up so other fonts fit too; the
 * line height; a gap kept around each label; how far an alternative spot steps.
 */
const LABEL_CHAR_W = 6.3;
const LABEL_H = 12.5;
const LABEL_PAD = 1.5;
const LABEL_STEP = 13;
/** Where along its arrow a label may sit, best first: the middle, then outwards. */
const LABEL_TS = [0.5, 0.42, 0.58, 0.34, 0.66, 0.27, 0.73, 0.2, 0.8];

export type Box = { x: number; y: number; w: number; h: number };

/** An arrow's label (escaped, empty for none) and where it may go, best first. */
export type Labelled = { text: string; spots: [number, number][] };

/** Spots for a self-loop's label: above the arc, beside it, or higher up. */
export function loopLabelSpots(a: Box, text: string): [number, number][] {
  const aside = a.w * 0.2 + labelBox(text, 0, 0).w / 2 + 4;
  const cx = a.x + a.w / 2;
  const spots: [number, number][] = [[cx, a.y - 30]];
  for (const dy of [-22, -9, 4]) spots.push([cx + aside, a.y + dy], [cx - aside, a.y + dy]);
  for (const k of [1, 2, 3]) spots.push([cx, a.y - 30 - k * LABEL_STEP]);
  return spots;
}

/**
 * Spots for a curved arrow's label: on the curve (`at(t)`, middle outwards) first, then
 * a step to either side of it along the unit normal (nx, ny).
 */
export function curveLabelSpots(at: (t: number) => [number, number], nx: number, ny: number): [number, number][] {
  const spots: [number, number][] = [];
  for (const off of [0, 1, -1, 2, -2, 3, -3]) {
    for (const t of LABEL_TS) {
      const [px, py] = at(t);
      spots.push([px + nx * off * LABEL_STEP, py + ny * off * LABEL_STEP]);
    }
  }
  return spots;
}

/** The box a label centred at (x, y) takes, with room for the font's real advance. */
function labelBox(text: string, x: number, y: number): Box {
  const w = unescaped(text).length * LABEL_CHAR_W + 2 * LABEL_PAD;
  return { x: x - w / 2, y: y - LABEL_H / 2 - LABEL_PAD, w, h: LABEL_H + 2 * LABEL_PAD };
}

const unescaped = (s: string) => s.replace(/&(amp|lt|gt|quot);/g, '_');

/**
 * Labels go where they overlap nothing placed before them: no other label, no state
 * box, no compound's title. Longest first (they have the fewest free spots); a label
 * with no free spot takes the one that overlaps least.
 */
export function placeLabels<E extends Labelled>(edges: E[], boxes: Box[]): Map<E, [number, number]> {
  const taken: Box[] = [...boxes];
  const placed = new Map<E, [number, number]>();
  const area = (p: Box, q: Box) =>
    Math.max(0, Math.min(p.x + p.w, q.x + q.w) - Math.max(p.x, q.x)) *
    Math.max(0, Math.min(p.y + p.h, q.y + q.h) - Math.max(p.y, q.y));
  for (const e of [...edges].filter((e) => e.text).sort((p, q) => q.text.length - p.text.length)) {
    let best = e.spots[0]!;
    let bestCost = Infinity;
    for (const spot of e.spots) {
      const box = labelBox(e.text, spot[0], spot[1]);
      const cost = taken.reduce((n, t) => n + area(box, t), 0);
      if (cost < bestCost) {
        best = spot;
        bestCost = cost;
      }
      if (cost === 0) break;
    }
    placed.set(e, best);
    taken.push(labelBox(e.text, best[0], best[1]));
  }
  return placed;
}
