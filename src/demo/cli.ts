/**
 * `wa-connd demo` on a terminal: options, a live summary every few seconds, the final
 * verdict, and the exit code (0 only when nothing was lost or duplicated).
 */
import { createLogger, guardConsole } from '../logging/logger.js';
import pino from 'pino';
import { formatDuration, parseDuration } from '../cli/duration.js';
import { exitCodeOf, UsageError } from '../cli/errors.js';
import { EXIT } from '../cli/exit-codes.js';
import { loadCliConfig, type GlobalOptions } from '../cli/session.js';
import { DEMO_GROUP_SIZE, runDemo, type DemoSummary, type DemoUrls } from './demo.js';

export type DemoCliOptions = GlobalOptions & {
  duration?: string;
  rate: string;
  period: string;
  dataDir?: string;
  json?: boolean;
  logLevel: string;
  simulatorHttp?: string;
  simulatorWs?: string;
  simulatorTimeScale?: string;
};

/** Live lines: often enough to watch drops happen, rare enough to read. */
const REPORT_EVERY_MS = 3_000;

export async function runDemoCli(o: DemoCliOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  let demo;
  try {
    const durationMs = o.duration === undefined ? null : parseDuration(o.duration);
    if (durationMs === null && o.duration !== undefined)
      throw new UsageError(`--duration: got ${JSON.stringify(o.duration)}; a duration such as 30s or 2m`);
    const periodMs = parseDuration(o.period);
    if (periodMs === null || periodMs < 500)
      throw new UsageError(`--period: got ${JSON.stringify(o.period)}; a duration of at least 500ms`);
    const rate = Number(o.rate);
    if (!(rate > 0 && rate <= 100))
      throw new UsageError(`--rate: got ${JSON.stringify(o.rate)}; sends per second, more than 0 and at most 100`);
    const remote = remoteOf(o);
    const base = loadCliConfig(o);
    const logger = createLogger({ level: o.logLevel }, pino.destination(2));
    guardConsole(logger);

    const print = (s: DemoSummary, final: boolean) =>
      out.write(o.json ? `${JSON.stringify({ final, ...s })}\n` : final ? finalText(s) : liveLine(s));
    if (!o.json) out.write(intro(periodMs, rate, durationMs));
    const onReady = (where: DemoUrls) => out.write(o.json ? `${JSON.stringify({ urls: where })}\n` : watchText(where));
    demo = runDemo({
      base,
      durationMs,
      ratePerSecond: rate,
      periodMs,
      logger,
      report: print,
      reportEveryMs: REPORT_EVERY_MS,
      onReady,
      ...(o.dataDir ? { dataDir: o.dataDir } : {}),
      ...(remote ? { remote } : {}),
    });
    const stop = demo.stop;
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const final = await demo.done;
    print(final, true);
    return final.lost === 0 && final.duplicated === 0 ? EXIT.ok : EXIT.failed;
  } catch (err) {
    const { code, message } = exitCodeOf(err);
    if (message) process.stderr.write(`${message}\n`);
    return code;
  }
}

function remoteOf(o: DemoCliOptions): { httpUrl: string; wsUrl: string; timeScale: number } | undefined {
  if (o.simulatorHttp === undefined) return undefined;
  const timeScale = Number(o.simulatorTimeScale ?? '1');
  if (o.simulatorWs === undefined || !(timeScale > 0))
    throw new UsageError("--simulator-http needs --simulator-ws and the simulator's --simulator-time-scale");
  return { httpUrl: o.simulatorHttp, wsUrl: o.simulatorWs, timeScale };
}

function intro(periodMs: number, rate: number, durationMs: number | null): string {
  return (
    [
      "wa-connd demo — the field report's 408 loop, scaled down",
      `  server: cuts every session with 408 ${formatDuration(periodMs)} after login (the report's ~16 min), and drops sessions idle that long (only messages and presence count, pings do not)`,
      '  demo-guarded: keepalive both, reconnects just ahead of a predicted drop   → drops prevented',
      '  demo-bare:    keepalive off, no prediction                               → drops absorbed (sends held, replayed)',
      `  a send every ${formatDuration(1000 / rate)}, alternating accounts; checked against the simulator's ledger`,
      `  ${durationMs === null ? 'Ctrl-C to stop' : `running for ${formatDuration(durationMs)}`}`,
      '',
    ].join('\n') + '\n'
  );
}

/** Every URL of the run, so nothing has to be guessed from a log line. */
function watchText(u: DemoUrls): string {
  return (
    [
      'Watch it while it runs:',
      `  inspector:  ${u.inspector}`,
      `  metrics:    ${u.metrics}`,
      `  readiness:  ${u.readyz}`,
      ...(u.httpPortTaken !== null
        ? [
            `  (port ${u.httpPortTaken} is in use, by a running gateway perhaps: the demo's HTTP server took a free one)`,
          ]
        : []),
      ...(u.token ? ['  (WA_CONND_HTTP_TOKEN is set: open the inspector once with ?token=<that token>)'] : []),
      `  simulator control API:  ${u.simulator}  (GET /ledger?account=<phone>, PUT /faults; docs/simulator.md)`,
      `  NATS:       ${u.nats}  (wa-connd events demo-bare --nats ${u.nats})`,
      '',
    ].join('\n') + '\n'
  );
}

function liveLine(s: DemoSummary): string {
  const parts = s.accounts.map(
    (a) =>
      `${a.account} ${a.state}: ${a.serverDrops} cut, ${a.dropsPrevented} prevented, ${a.held} held/${a.replayed} replayed`,
  );
  return `[${(s.elapsedMs / 1000).toFixed(0).padStart(3)} s] ${parts.join(' | ')} | sent ${s.sent}, not yet in ledger ${s.pending}, duplicated ${s.duplicated}\n`;
}

function finalText(s: DemoSummary): string {
  const lines = [
    '',
    `Summary after ${formatDuration(s.elapsedMs)} (server drop period ${formatDuration(s.periodMs)}):`,
  ];
  for (const a of s.accounts) {
    lines.push(
      `  ${a.account} (keepalive ${a.keepalive}): ${a.serverDrops} sessions cut by the server, ${a.dropsPrevented} drops prevented by reconnecting ahead, ${a.keepaliveOk} keepalive probes answered`,
      `    sends: ${a.sent} accepted (${a.groupSent} to a group of ${DEMO_GROUP_SIZE}), ${a.acked} acked, ${a.held} held while offline and ${a.replayed} of them replayed, ${a.failed} failed, ${a.expired} expired`,
      `    ledger: ${a.delivered} delivered once, ${a.missing} lost, ${a.duplicated} duplicated${a.resentSameId ? ` (${a.resentSameId} re-sent under the same message id after a reconnect; the recipient shows each once)` : ''}`,
    );
  }
  if (s.images)
    lines.push(
      `  ${s.images} of the accepted sends were images: ${s.uploads} uploads recorded (one per image: a replay does not upload again)`,
    );
  if (s.refused)
    lines.push(`  ${s.refused} sends were refused by the gateway (the sender was told; not counted as lost)`);
  const ok = s.lost === 0 && s.duplicated === 0;
  lines.push(
    `  messages lost: ${s.lost}, duplicated: ${s.duplicated} — ${ok ? 'OK: every accepted message reached WhatsApp exactly once' : 'FAILED'}`,
    '',
  );
  return lines.join('\n') + '\n';
}
