/**
 * Every NATS subject and name wa-connd uses. Nothing else in the project spells a
 * subject by hand: builders here validate their input, so an account id can never
 * smuggle a `.`, `*` or `>` into a subject and widen what it addresses.
 */
import { WaError } from './errors.js';

/** One subject token: lowercase so ids compare equal whatever a client typed. */
export const ACCOUNT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/**
 * Ids that match the pattern but no account may have, each with why (shown in the
 * config error and the `accounts.add` reply). `wa.cmd.accounts.<verb>` is the fleet
 * API, so an account called `accounts` could not be told from it.
 */
const RESERVED_ACCOUNT_ID_REASONS = {
  accounts:
    "it is the subject token of the fleet API (wa.cmd.accounts.<verb>), so the account's commands could not be told from the fleet's",
  webhooks:
    "it is the subject token of the webhook API (wa.cmd.webhooks.<verb>), so the account's commands could not be told from the webhooks'",
} as const satisfies Record<string, string>;

export const RESERVED_ACCOUNT_IDS = Object.keys(
  RESERVED_ACCOUNT_ID_REASONS,
) as readonly (keyof typeof RESERVED_ACCOUNT_ID_REASONS)[];

/** Why `id` is reserved, or undefined when it is not. */
export function reservedAccountId(id: string): string | undefined {
  return Object.hasOwn(RESERVED_ACCOUNT_ID_REASONS, id)
    ? `account id "${id}" is reserved: ${RESERVED_ACCOUNT_ID_REASONS[id as keyof typeof RESERVED_ACCOUNT_ID_REASONS]}`
    : undefined;
}

export const EVENTS_STREAM = 'WA_EVENTS';
export const EVT_PREFIX = 'wa.evt';
export const CMD_PREFIX = 'wa.cmd';

/** NATS micro service identity (`$SRV.PING|INFO|STATS.wa-connd`); version is semver. */
export const SERVICE_NAME = 'wa-connd';
export const SERVICE_VERSION = '1.0.0';
export const SERVICE_DESCRIPTION = 'WhatsApp Multi-Device gateway: commands per account';

export const ACCOUNT_VERBS = [
  'send',
  'status',
  'connect',
  'disconnect',
  'logout',
  'pair',
  'groups',
  'read',
  'presence',
] as const;
export type AccountVerb = (typeof ACCOUNT_VERBS)[number];

export const ACCOUNTS_VERBS = ['list', 'add', 'remove'] as const;
export type AccountsVerb = (typeof ACCOUNTS_VERBS)[number];

/** `accounts.list` etc.: the fleet verbs as they appear in decoded commands. */
export type FleetVerb = `accounts.${AccountsVerb}`;

export const WEBHOOKS_VERBS = ['list', 'add', 'remove', 'replay'] as const;
export type WebhooksVerb = (typeof WEBHOOKS_VERBS)[number];
/** `webhooks.add` etc.: the webhook verbs as they appear in decoded commands. */
export type WebhookVerb = `webhooks.${WebhooksVerb}`;

export function isAccountId(value: unknown): boolean {
  return typeof value === 'string' && ACCOUNT_ID_PATTERN.test(value) && reservedAccountId(value) === undefined;
}

export function accountIdError(value: unknown): WaError {
  const reserved = typeof value === 'string' ? reservedAccountId(value) : undefined;
  if (reserved) return new WaError('bad_request', reserved);
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
  return new WaError('bad_request', `invalid account id ${shown}: expected ${ACCOUNT_ID_PATTERN.source}`);
}

/** Throws `bad_request`: a builder given a bad id is a caller bug, not a client input. */
export function assertAccountId(value: unknown): asserts value is string {
  if (!isAccountId(value)) throw accountIdError(value);
}

/** `wa.evt.<account>.<type>`; `type` may contain dots (`send.queued`). */
export function evtSubject(account: string, type: string): string {
  assertAccountId(account);
  return `${EVT_PREFIX}.${account}.${type}`;
}

/** `wa.evt.>` for every account, `wa.evt.<account>.>` for one. */
export function evtFilter(account?: string): string {
  if (account === undefined) return `${EVT_PREFIX}.>`;
  assertAccountId(account);
  return `${EVT_PREFIX}.${account}.>`;
}

/** `wa.evt.*.<type>`: one event type across all accounts. */
export function evtTypeFilter(type: string): string {
  return `${EVT_PREFIX}.*.${type}`;
}

export function cmdSubject(account: string, verb: AccountVerb): string {
  assertAccountId(account);
  return `${CMD_PREFIX}.${account}.${verb}`;
}

export function accountsCmdSubject(verb: AccountsVerb): string {
  return `${CMD_PREFIX}.accounts.${verb}`;
}

export function webhooksCmdSubject(verb: WebhooksVerb): string {
  return `${CMD_PREFIX}.webhooks.${verb}`;
}

/**
 * What the command service subscribes to. One catch-all endpoint rather than one per
 * verb, so a request to an unknown verb or a malformed subject still gets an error
 * reply instead of "no responders".
 */
export const CMD_WILDCARD = `${CMD_PREFIX}.>`;

/**
 * Internal, between gateway processes sharing accounts by lease (docs/scaling.md): a
 * command that reached a process not owning its account is forwarded to the owner on
 * `wa.fwd.<writer id>.<original subject>`. Clients never use it.
 */
export const FWD_PREFIX = 'wa.fwd';

export function fwdSubject(writer: string, subject: string): string {
  return `${FWD_PREFIX}.${writer}.${subject}`;
}

export function fwdWildcard(writer: string): string {
  return `${FWD_PREFIX}.${writer}.>`;
}

export type ParsedCmdSubject =
  | { scope: 'account'; account: string; verb: AccountVerb }
  | { scope: 'accounts'; verb: FleetVerb }
  | { scope: 'webhooks'; verb: WebhookVerb };

/** Never throws: a subject a client made up is input, so the answer is a typed error. */
export function parseCmdSubject(subject: string): ParsedCmdSubject | WaError {
  const tokens = subject.split('.');
  if (tokens.length !== 4 || tokens[0] !== 'wa' || tokens[1] !== 'cmd') {
    return new WaError(
      'bad_request',
      `not a command subject: expected ${CMD_PREFIX}.<account>.<verb>, ${CMD_PREFIX}.accounts.<verb> or ${CMD_PREFIX}.webhooks.<verb>`,
    );
  }
  const scope = tokens[2] as string;
  const verb = tokens[3] as string;
  if (scope === 'accounts') {
    if (!(ACCOUNTS_VERBS as readonly string[]).includes(verb)) {
      return new WaError('bad_request', `unknown verb "accounts.${verb.slice(0, 40)}"`);
    }
    return { scope: 'accounts', verb: `accounts.${verb as AccountsVerb}` };
  }
  if (scope === 'webhooks') {
    if (!(WEBHOOKS_VERBS as readonly string[]).includes(verb)) {
      return new WaError('bad_request', `unknown verb "webhooks.${verb.slice(0, 40)}"`);
    }
    return { scope: 'webhooks', verb: `webhooks.${verb as WebhooksVerb}` };
  }
  if (!isAccountId(scope)) return accountIdError(scope);
  if (!(ACCOUNT_VERBS as readonly string[]).includes(verb)) {
    return new WaError('bad_request', `unknown verb "${verb.slice(0, 40)}"`);
  }
  return { scope: 'account', account: scope, verb: verb as AccountVerb };
}
