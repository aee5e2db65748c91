/**
 * The commands that talk to a running gateway. Each one is a few calls of the typed
 * client; none spells a subject or a payload field by hand.
 */
import QRCode from 'qrcode';
import {
  EVENT_TYPES,
  isoTimeSchema,
  type AccountState,
  KEEPALIVE_STRATEGIES,
  type EventType,
  type KeepaliveStrategy,
} from '../contract/index.js';
import type { EventsOptions, SendContentInput, WaClient } from '../client/index.js';
import { parseDuration } from './duration.js';
import { UsageError, WaitTimeoutError } from './errors.js';
import { formatAccounts, formatEvent, formatStatus } from './format.js';

export type Out = { write(text: string): unknown };
export type Io = { out: Out; err: Out };

const line = (o: Out, text: string) => o.write(`${text}\n`);
const json = (o: Out, value: unknown) => o.write(`${JSON.stringify(value)}\n`);

export async function accountsList(wa: WaClient, io: Io, opts: { json?: boolean }): Promise<void> {
  const accounts = await wa.accounts();
  if (opts.json) json(io.out, accounts);
  else line(io.out, formatAccounts(accounts));
}

export async function accountsAdd(
  wa: WaClient,
  io: Io,
  account: string,
  opts: { keepalive?: string; connect: boolean },
): Promise<void> {
  if (opts.keepalive !== undefined && !(KEEPALIVE_STRATEGIES as readonly string[]).includes(opts.keepalive)) {
    throw new UsageError(
      `--keepalive: got ${JSON.stringify(opts.keepalive)}; one of ${KEEPALIVE_STRATEGIES.join(', ')}`,
    );
  }
  await wa.addAccount(account, {
    connect: opts.connect,
    ...(opts.keepalive ? { keepalive: opts.keepalive as KeepaliveStrategy } : {}),
  });
  line(io.out, `added ${account}${opts.connect ? '' : ' (not connecting: wa-connd connect ' + account + ')'}`);
}

export async function accountsRemove(wa: WaClient, io: Io, account: string): Promise<void> {
  await wa.removeAccount(account);
  line(io.out, `removed ${account}`);
}

export async function status(
  wa: WaClient,
  io: Io,
  account: string | undefined,
  opts: { json?: boolean },
): Promise<void> {
  const ids = account !== undefined ? [account] : (await wa.accounts()).map((a) => a.account);
  const all = await Promise.all(ids.map((id) => wa.status(id)));
  if (opts.json) {
    for (const s of all) json(io.out, s);
    return;
  }
  if (all.length === 0) line(io.out, '(no accounts)');
  for (const s of all) line(io.out, formatStatus(s));
}

/**
 * The drain is read from the event stream from this long before it began (by the gateway's
 * clock): a nats-server clock behind the gateway's must not make the feed start after it.
 */
const CLOCK_SKEW_MARGIN_MS = 60_000;

/**
 * `disconnect` waits out the drain (in-flight acks, then the socket closes) and prints
 * the state it ends in: a user who asked for a stop expects `stopped`, not the step
 * before it. `connect` returns at once (an open can wait on backoff or a scan).
 */
export async function lifecycle(
  wa: WaClient,
  io: Io,
  verb: 'connect' | 'disconnect' | 'logout',
  account: string,
  opts: { waitMs: number },
): Promise<void> {
  let { state } = await wa[verb](account);
  if (verb === 'disconnect' && state === 'draining') {
    const status = await wa.status(account);
    state = status.state === 'draining' ? await drained(wa, account, status.since, opts.waitMs) : status.state;
  }
  line(io.out, `${account}: ${state}`);
}

/** The state the account's transition out of `draining` (entered at `since`) leads to. */
async function drained(wa: WaClient, account: string, since: string, waitMs: number): Promise<AccountState> {
  const began = Date.parse(since);
  const feed = wa.events({ account, type: 'transition', since: new Date(began - CLOCK_SKEW_MARGIN_MS) });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new WaitTimeoutError(`${account} is still draining after ${waitMs} ms (watch: wa-connd status ${account})`),
        ),
      waitMs,
    );
  });
  const left = (async () => {
    for await (const { event } of feed) {
      if (event.type === 'transition' && event.from === 'draining' && Date.parse(event.at) >= began) return event.to;
    }
    return undefined;
  })();
  // When the deadline wins, the feed's end (or a failure) after close() must not go unhandled.
  left.catch(() => undefined);
  try {
    const state = await Promise.race([left, timeout]);
    if (state === undefined) throw new WaitTimeoutError(`the event stream ended before ${account} left draining`);
    return state;
  } finally {
    clearTimeout(timer);
    feed.close();
  }
}

export async function send(
  wa: WaClient,
  io: Io,
  account: string,
  to: string,
  content: SendContentInput,
  opts: { id?: string; deadline?: string; json?: boolean },
): Promise<void> {
  const r = await wa.send(account, {
    to,
    ...content,
    ...(opts.id !== undefined ? { id: opts.id } : {}),
    ...(opts.deadline !== undefined ? { deadline: deadlineOf(opts.deadline) } : {}),
  });
  if (opts.json) json(io.out, r);
  else line(io.out, `${r.id} ${r.status} (event #${r.seq})${r.error ? ` — ${r.error.code}: ${r.error.message}` : ''}`);
}

/** `--deadline 5m` (from now) or an absolute ISO time / epoch ms, as the contract takes it. */
function deadlineOf(text: string): string | number {
  const relative = parseDuration(text);
  if (relative !== null && /[a-z]$/.test(text.trim())) return new Date(Date.now() + relative).toISOString();
  if (/^\d+$/.test(text)) return Number(text);
  // Checked here with the contract's own schema: a bad value is a usage error (exit 2), not a gateway refusal (exit 1).
  if (isoTimeSchema.safeParse(text).success) return text;
  throw new UsageError(
    `--deadline: got ${JSON.stringify(text)}; a duration from now (30s, 5m, 2h) or an ISO time with offset (2026-12-24T18:00:00Z)`,
  );
}

/** Pairing: a code to type on the phone, or QR codes shown here until the phone scanned one. */
export async function pair(
  wa: WaClient,
  io: Io,
  account: string,
  opts: { phone?: string; wait: boolean; waitTimeout: string },
): Promise<void> {
  if (opts.phone !== undefined) {
    const r = await wa.pair(account, { phone: opts.phone });
    line(io.out, `pairing code for ${account}: ${r.code ?? '(none issued)'}`);
    line(
      io.out,
      'On the phone: WhatsApp → Settings → Linked devices → Link a device → Link with phone number instead, and type the code.',
    );
    return;
  }
  const waitMs = parseDuration(opts.waitTimeout);
  if (waitMs === null)
    throw new UsageError(`--wait-timeout: got ${JSON.stringify(opts.waitTimeout)}; a duration such as 2m`);
  // Read from just before the request, so the first QR cannot slip past (clock skew to the server allowed for).
  const feed = opts.wait ? wa.events({ account, type: ['qr', 'paired'], since: new Date(Date.now() - 2_000) }) : null;
  await wa.pair(account);
  line(
    io.out,
    `pairing ${account} by QR code: on the phone, WhatsApp → Settings → Linked devices → Link a device, and scan.`,
  );
  if (!feed) {
    line(io.out, `(watch the QR codes with: wa-connd events ${account} --type qr --json)`);
    return;
  }
  const timer = setTimeout(() => feed.close(), waitMs);
  try {
    for await (const { event } of feed) {
      if (event.type === 'qr') {
        io.out.write(`\n${await QRCode.toString(event.qr, { type: 'terminal', small: true })}\n`);
        line(io.out, `qr ${event.qr}`);
      }
      if (event.type === 'paired') {
        line(io.out, `paired ${account}${event.jid ? ` as ${event.jid}` : ''}`);
        return;
      }
    }
  } finally {
    clearTimeout(timer);
    feed.close();
  }
  throw new WaitTimeoutError(
    `${account} was not paired within ${opts.waitTimeout} (run wa-connd pair ${account} again for new QR codes)`,
  );
}

export type EventsCliOptions = { type?: string[]; since?: string; json?: boolean; follow: boolean; limit?: string };

export async function events(
  wa: WaClient,
  io: Io,
  account: string | undefined,
  opts: EventsCliOptions,
  onFeed?: (close: () => void) => void,
): Promise<void> {
  const types = opts.type?.flatMap((t) => t.split(',')).filter(Boolean);
  for (const t of types ?? []) {
    if (!(EVENT_TYPES as readonly string[]).includes(t))
      throw new UsageError(`--type: got ${JSON.stringify(t)}; one of ${EVENT_TYPES.join(', ')}`);
  }
  const limit = opts.limit === undefined ? Infinity : Number(opts.limit);
  if (!(limit >= 1) || (!Number.isInteger(limit) && limit !== Infinity))
    throw new UsageError(`--limit: got ${JSON.stringify(opts.limit)}; a whole number ≥ 1`);
  const options: EventsOptions = { follow: opts.follow };
  if (account !== undefined) options.account = account;
  if (types?.length) options.type = types as EventType[];
  if (opts.since !== undefined) options.since = sinceOf(opts.since);
  const feed = wa.events(options);
  onFeed?.(() => feed.close());
  let n = 0;
  for await (const item of feed) {
    if (opts.json) json(io.out, { streamSeq: item.streamSeq, ...item.event });
    else line(io.out, formatEvent(item));
    if (++n >= limit) break;
  }
  feed.close();
}

/** `start` or `all`: the oldest event kept; `1234`: a stream sequence; `10m`: that long ago; else an ISO time. */
function sinceOf(text: string): number | Date | string {
  if (text === 'start' || text === 'all') return 1;
  if (/^\d+$/.test(text)) return Number(text);
  const ago = parseDuration(text);
  if (ago !== null) return new Date(Date.now() - ago);
  if (Number.isNaN(new Date(text).getTime()))
    throw new UsageError(
      `--since: got ${JSON.stringify(text)}; a stream sequence, "start", a duration (10m) or an ISO time`,
    );
  return text;
}
