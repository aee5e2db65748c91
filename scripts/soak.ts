// `npm run soak [-- --hours 24] [-- --seed N]`: the 24-hour soak in accelerated time
// (docs/testing.md, "Soak"). Prints one line per account, the per-hour resource figures
// and a verdict line; exits 1 when a target is missed.
import { parseArgs } from 'node:util';
import { runSoak, type AccountReport } from '../test/support/chaos/soak.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    hours: { type: 'string', default: '24' },
    scale: { type: 'string', default: '600' },
  },
});
/** `--scale 600`: one real hour in 1/600 of the time (a loaded machine may need 300: its event-loop delay must stay well under the 16-minute timer scaled). */
const scale = 1 / Number(values.scale);
const seed = Number(values.seed ?? process.env['SOAK_SEED'] ?? Date.now() % 1_000_000);
const hours = Number(values.hours);
/** end / start at or under this counts as flat (issue 18). */
const FLAT = 1.2;
/** The pattern must be reported within this many periods (issue 18). */
const PATTERN_WITHIN = 3;

// libsignal prints session dumps with console.* from the baseline's Baileys; the report is on stdout.
for (const k of ['log', 'info', 'warn', 'error', 'debug'] as const) console[k] = () => undefined;
process.stdout.write(`soak: seed ${seed}, scale 1/${Math.round(1 / scale)}, ${hours} scaled hours\n`);
const r = await runSoak({ seed, hours, scale, log: (l) => process.stderr.write(`${l}\n`) });
const line = (a: AccountReport) =>
  `soak ${a.kind} ${a.account}: sends=${a.sends} accepted=${a.accepted} delivered=${a.delivered} lost=${a.lost} ` +
  `pending=${a.pending} unanswered=${a.unanswered} failed=${a.failed} drops=${a.drops} planned_recycles=${a.plannedRecycles} ` +
  `pattern_after_drops=${a.dropsBeforePattern ?? '-'} pattern_period_ms=${a.patternPeriodMs ?? '-'} ` +
  `held=${a.held} resent=${a.resent}`;
for (const a of r.accounts) process.stdout.write(`${line(a)}\n`);
// Hour 1 holds start-up (tsx compile, JIT, first logins): the start is hour 2.
const first = r.hours[1] ?? r.hours[0];
const last = r.hours.at(-1);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
// Event-loop delay and CPU per hour are noisy on a shared box: the first and last 3 hours are compared.
const head = r.hours.slice(1, 4);
const tail = r.hours.slice(-3);
const ratios = {
  rss: (last?.rssMiB ?? NaN) / (first?.rssMiB ?? NaN),
  eldP99: mean(tail.map((h) => h.eldP99Ms)) / mean(head.map((h) => h.eldP99Ms)),
  cpu: mean(tail.map((h) => h.cpuMs)) / mean(head.map((h) => h.cpuMs)),
};
process.stdout.write(
  `soak hours (hour:rss/heap MiB/eld p99/cpu): ${r.hours.map((h) => `${h.hour}:${h.rssMiB.toFixed(0)}/${h.heapMiB.toFixed(0)}MiB/${h.eldP99Ms.toFixed(1)}ms/${h.cpuMs.toFixed(0)}ms`).join(' ')}\n`,
);
const of = (name: string) => r.accounts.find((a) => a.account === name) as AccountReport;
const [idle, drain, plain] = [of('ka-idle'), of('rc-drain'), of('rc-plain')];
const replays = (a: AccountReport) => a.resent;
const checks: [string, boolean][] = [
  ['keepalive: 0 drops under the idle timer', idle.drops === 0],
  [
    'gateway: 0 lost, 0 failed, none pending',
    [idle, drain, plain].every((a) => a.lost + a.failed + a.pending + a.unanswered === 0),
  ],
  [
    `pattern reported within ${PATTERN_WITHIN} periods`,
    [drain, plain].every((a) => a.dropsBeforePattern !== undefined && a.dropsBeforePattern <= PATTERN_WITHIN),
  ],
  ['draining ahead lowers replays', replays(drain) < replays(plain)],
  [`RSS, event-loop delay, CPU flat (≤ ${FLAT})`, Object.values(ratios).every((x) => x <= FLAT)],
];
for (const [what, ok] of checks) process.stdout.write(`  ${ok ? 'ok  ' : 'FAIL'} ${what}\n`);
process.stdout.write(
  `soak seed=${seed} scale=1/${Math.round(1 / scale)} hours=${hours} wall=${Math.round(r.wallMs / 1000)}s idle_drops=${idle.drops} ` +
    `lost=${idle.lost + drain.lost + plain.lost} pending=${idle.pending + drain.pending + plain.pending} failed=${idle.failed + drain.failed + plain.failed} ` +
    `pattern_after=${drain.dropsBeforePattern ?? '-'}/${plain.dropsBeforePattern ?? '-'} ` +
    `replays_drain=${replays(drain)} replays_plain=${replays(plain)} ` +
    `baileys_idle_drops=${of('baileys-idle').drops} baileys_idle_failed=${of('baileys-idle').failed} ` +
    `baileys_recycle_drops=${of('baileys-recycle').drops} baileys_recycle_failed=${of('baileys-recycle').failed} ` +
    `rss_ratio=${ratios.rss.toFixed(2)} eld_ratio=${ratios.eldP99.toFixed(2)} cpu_ratio=${ratios.cpu.toFixed(2)}\n`,
);
process.exit(checks.every(([, ok]) => ok) ? 0 : 1);
