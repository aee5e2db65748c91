/**
 * The command API: one NATS micro service (`wa-connd`, discoverable through
 * `$SRV.PING|INFO|STATS`) with one catch-all endpoint on `wa.cmd.>`, so an unknown
 * verb or a malformed subject still gets an error reply instead of "no responders".
 *
 * Every request gets exactly one reply: `{ ok: true, … }` or `{ ok: false, error:
 * { code, message } }`. Errors are also flagged in the micro-service headers
 * (`Nats-Service-Error-Code`) and counted in `$SRV.STATS` (`num_errors`). Nothing a client sends can
 * throw out of the handler: decoding never throws, every runtime call is wrapped, and
 * an unexpected error becomes `internal` (logged with its cause, never replied with it).
 */
import { type Service, Svcm, type ServiceMsg } from '@nats-io/services';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import {
  CMD_WILDCARD,
  type Command,
  fwdWildcard,
  decodeCommand,
  encodeReply,
  type OkReplyOf,
  SERVICE_DESCRIPTION,
  SERVICE_NAME,
  SERVICE_VERSION,
  toWaError,
  type Verb,
  WaError,
  type WebhookEndpointConfig,
  type WaErrorCode,
} from '../contract/index.js';
import type { AccountOptions, AccountsPort } from '../runtime/port.js';
import type { Adoptions } from './adoption.js';
import { type CommandRouter, forwardIfElsewhere, isAccountVerb } from './command-routing.js';
import type { EventPublisher } from './event-publisher.js';
import type { Projection } from './projection.js';
import type { Sends } from './sends.js';

/** HTTP-like codes for the micro-service error header; the reply body carries the contract code. */
const SERVICE_ERROR_CODES: Record<WaErrorCode, number> = {
  bad_request: 400,
  unknown_account: 404,
  too_large: 413,
  logged_out: 409,
  not_paired: 409,
  conflict: 409,
  timeout: 504,
  unavailable: 503,
  internal: 500,
};

/** The one endpoint's name in `$SRV.INFO|STATS`. */
const ENDPOINT = 'commands';
/** With leases: commands other processes forwarded to this one (command-routing.ts). */
const FORWARDED_ENDPOINT = 'forwarded';

/**
 * Error replies sent, for `$SRV.STATS`. @nats-io/services counts an error only when a
 * handler throws synchronously; ours answers every error as a typed reply after
 * awaiting, so without this `num_errors` would stay 0 however many errors went out.
 */
type ErrorTally = { count: number; lastCode?: WaErrorCode };

/** `status` waits this long for the account's buffered events so it reports what just happened. */
const STATUS_FLUSH_MS = 500;

/** Adding and removing accounts involves the layer (takeover, recovery), not just the runtime. */
export type AccountAdmin = {
  add(account: string, options: AccountOptions): Promise<void>;
  remove(account: string): Promise<void>;
};

/** The webhook endpoints (src/webhooks/service.ts), started after this service. */
export type WebhookAdmin = {
  list(): OkReplyOf<'webhooks.list'>['endpoints'];
  add(endpoint: WebhookEndpointConfig): Promise<void>;
  remove(id: string): Promise<void>;
  replay(id: string, from: { seq: number } | { time: string }): Promise<{ fromSeq: number; toSeq: number }>;
};

export type CommandServiceOptions = {
  nc: NatsConnection;
  accounts: AccountsPort;
  /** Says whether an account not in the runtime is unknown or still being adopted. */
  adoptions: Adoptions;
  admin: AccountAdmin;
  sends: Sends;
  publisher: EventPublisher;
  projection: Projection;
  logger: Logger;
  /** Undefined until the webhooks are up (they start after this service): `unavailable` then. */
  webhooks?: () => WebhookAdmin | undefined;
  /** Upper bound for runtime calls that wait on WhatsApp (logout, pair, add). */
  callTimeoutMs: number;
  /** With leases: commands for accounts another process owns are forwarded to it (command-routing.ts). */
  router?: CommandRouter;
};

export async function startCommandService(o: CommandServiceOptions): Promise<Service> {
  // @nats-io/services 3.0.0-25 pins its own nats-core copy: same runtime object, two type identities.
  const svcm = new Svcm(o.nc as unknown as ConstructorParameters<typeof Svcm>[0]);
  const service = await svcm.add({ name: SERVICE_NAME, version: SERVICE_VERSION, description: SERVICE_DESCRIPTION });
  const errors: ErrorTally = { count: 0 };
  reportErrorReplies(service, errors);
  service.addEndpoint(ENDPOINT, {
    subject: CMD_WILDCARD,
    metadata: {
      verbs:
        'send status connect disconnect logout pair accounts.list accounts.add accounts.remove webhooks.list webhooks.add webhooks.remove webhooks.replay',
    },
    handler: (err, msg) => {
      if (err) {
        o.logger.error({ err }, 'command endpoint stopped');
        return;
      }
      void handle(o, msg, errors);
    },
  });
  const { router } = o;
  if (router) {
    // Commands forwarded by a process that does not own their account: run here, never forwarded again.
    const prefix = fwdWildcard(router.writerId).slice(0, -1);
    service.addEndpoint(FORWARDED_ENDPOINT, {
      subject: fwdWildcard(router.writerId),
      handler: (err, msg) => {
        if (!err) void handle(o, msg, errors, msg.subject.slice(prefix.length));
      },
    });
  }
  o.logger.info({ service: SERVICE_NAME, subject: CMD_WILDCARD }, 'command service started');
  return service;
}

/**
 * Adds the error replies to the library's figures whenever `$SRV.STATS` is asked (the
 * library's STATS handler calls `service.stats()`), and clears them with `reset()`.
 * `last_error` is the contract code only: the message may echo a client's input.
 */
function reportErrorReplies(service: Service, errors: ErrorTally): void {
  const libraryStats = service.stats.bind(service);
  const libraryReset = service.reset.bind(service);
  service.stats = async () => {
    const stats = await libraryStats();
    for (const e of stats.endpoints ?? []) {
      if (e.name !== ENDPOINT) continue;
      e.num_errors += errors.count;
      if (errors.lastCode) e.last_error = errors.lastCode;
    }
    return stats;
  };
  service.reset = () => {
    errors.count = 0;
    delete errors.lastCode;
    libraryReset();
  };
}

/** `forwardedAs`: the original subject of a command another process forwarded here. */
async function handle(
  o: CommandServiceOptions,
  msg: ServiceMsg,
  errors: ErrorTally,
  forwardedAs?: string,
): Promise<void> {
  let body: { ok: boolean };
  let error: WaError | undefined;
  const subject = forwardedAs ?? msg.subject;
  const cmd = decodeCommand(subject, msg.data);
  try {
    if (cmd instanceof WaError) throw cmd;
    if (o.router && 'account' in cmd && isAccountVerb(cmd.verb)) {
      const relayed = await forwardIfElsewhere(
        o.nc,
        o.router,
        cmd.account,
        subject,
        msg.data,
        o.callTimeoutMs,
        forwardedAs !== undefined,
      );
      if (relayed) return respond(o, msg, () => msg.respond(relayed));
    }
    body = await execute(o, cmd);
  } catch (err) {
    error = toWaError(err);
    if (error.code === 'internal') o.logger.error({ err, subject: msg.subject }, 'command failed unexpectedly');
    body = { ok: false, error: error.toWire() } as { ok: false };
  }
  if (error) {
    errors.count++;
    errors.lastCode = error.code;
  }
  const reply = encodeReply(body);
  respond(o, msg, () =>
    error ? msg.respondError(SERVICE_ERROR_CODES[error.code], error.code, reply) : msg.respond(reply),
  );
}

function respond(o: CommandServiceOptions, msg: ServiceMsg, send: () => unknown): void {
  try {
    send();
  } catch (err) {
    o.logger.warn({ err, subject: msg.subject }, 'could not send a command reply');
  }
}

async function execute(o: CommandServiceOptions, cmd: Command): Promise<OkReplyOf<Verb>> {
  const { accounts } = o;
  switch (cmd.verb) {
    case 'send':
      return o.sends.send(cmd);
    case 'status':
      return status(o, known(o, cmd.account));
    case 'connect':
      return { ok: true, account: cmd.account, state: accounts.connect(known(o, cmd.account)) };
    case 'disconnect':
      return { ok: true, account: cmd.account, state: accounts.disconnect(known(o, cmd.account)) };
    case 'logout':
      return {
        ok: true,
        account: cmd.account,
        state: await bounded(o, 'logout', accounts.logout(known(o, cmd.account))),
      };
    case 'pair': {
      const r = await bounded(o, 'pair', accounts.pair(known(o, cmd.account), cmd.phone));
      return { ok: true, account: cmd.account, method: r.method, ...(r.code !== undefined ? { code: r.code } : {}) };
    }
    case 'groups': {
      const groups = await bounded(o, 'groups', accounts.chat(known(o, cmd.account)).groups());
      return { ok: true, account: cmd.account, groups };
    }
    case 'read': {
      const status = await bounded(o, 'read', accounts.chat(known(o, cmd.account)).read(cmd.chat, cmd.ids));
      return { ok: true, account: cmd.account, chat: cmd.chat, status };
    }
    case 'presence':
      await bounded(o, 'presence', accounts.chat(known(o, cmd.account)).presence(cmd.chat, cmd.state));
      return { ok: true, account: cmd.account, chat: cmd.chat, state: cmd.state };
    case 'accounts.list':
      return { ok: true, accounts: accounts.list() };
    case 'accounts.add': {
      const options: AccountOptions = {};
      if (cmd.keepalive !== undefined) options.keepalive = cmd.keepalive;
      if (cmd.connect !== undefined) options.connect = cmd.connect;
      await bounded(o, 'accounts.add', o.admin.add(cmd.account, options));
      return { ok: true, account: cmd.account };
    }
    case 'accounts.remove':
      await bounded(o, 'accounts.remove', o.admin.remove(known(o, cmd.account)));
      return { ok: true, account: cmd.account };
    case 'webhooks.list':
      return { ok: true, endpoints: webhooks(o).list() };
    case 'webhooks.add':
      await bounded(o, 'webhooks.add', webhooks(o).add(cmd.endpoint));
      return { ok: true, id: cmd.endpoint.id };
    case 'webhooks.remove':
      await bounded(o, 'webhooks.remove', webhooks(o).remove(cmd.id));
      return { ok: true, id: cmd.id };
    case 'webhooks.replay':
      return { ok: true, id: cmd.id, ...(await bounded(o, 'webhooks.replay', webhooks(o).replay(cmd.id, cmd.from))) };
    default: {
      const unreachable: never = cmd;
      return unreachable;
    }
  }
}

function webhooks(o: CommandServiceOptions): WebhookAdmin {
  const admin = o.webhooks?.();
  if (!admin) throw new WaError('unavailable', 'webhooks are not running yet; retry');
  return admin;
}

function known(o: CommandServiceOptions, account: string): string {
  return o.adoptions.require(account);
}

/** The account's view as it is: its status is live (the runtime's facts), its outbox what the stream holds. */
async function status(o: CommandServiceOptions, account: string): Promise<OkReplyOf<'status'>> {
  await o.publisher.flushed(account, STATUS_FLUSH_MS);
  const view = o.projection.view(account);
  // Every account the runtime runs was `started` in the view when it was added.
  if (view.state === null || view.since === null) throw new WaError('internal', `no status for account ${account}`);
  return {
    ok: true,
    account,
    state: view.state,
    since: view.since,
    lastDisconnects: view.lastDisconnects,
    outbox: { depth: view.outbox.size },
    keepalive: { ...view.keepalive },
    ...(view.owner ? { owner: { ...view.owner } } : {}),
  };
}

async function bounded<T>(o: CommandServiceOptions, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new WaError('timeout', `${what} did not complete within ${o.callTimeoutMs} ms`)),
      o.callTimeoutMs,
    );
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
