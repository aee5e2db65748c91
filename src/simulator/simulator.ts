// The simulator's operations, independent of transport: the control API calls these, and
// tests can call them in-process through startSimulator().
import { BufferJSON } from './wa.js';
import { SimulatorError } from './errors.js';
import {
  provisionAccount,
  describeAccount,
  type ProvisionOptions,
  type ProvisionedAccount,
} from './accounts/provision.js';
import type { FaultAction, FaultConditionKey, FaultConditions } from './faults/faults.js';
import type { LedgerEntry, LedgerQuery } from './ledger/ledger.js';
import type { InboundRequest, InboundResult } from './session/delivery.js';
import type { ScanResult } from './session/pairing.js';
import type { SessionInfo } from './session/session-registry.js';
import type { SimulatorContext } from './session/context.js';
import type { UploadRecord } from './media/store.js';

export interface AccountInfo extends ReturnType<typeof describeAccount> {
  connected: boolean;
  queuedInbound: number;
  hasKeys: boolean;
}

export interface SimulatorControls {
  provisionAccount(options?: ProvisionOptions): ProvisionedAccount;
  accounts(): AccountInfo[];
  sessions(): SessionInfo[];
  faults(): { global: FaultConditions; accounts: Record<string, FaultConditions> };
  setFaults(conditions: FaultConditions, account?: string): void;
  clearFaults(account?: string, keys?: FaultConditionKey[]): void;
  /** One-shot action on the account's session (or every session): returns connection ids. */
  inject(action: FaultAction, account?: string): string[];
  pushInbound(req: InboundRequest): InboundResult;
  ledger(query?: LedgerQuery): LedgerEntry[];
  /** Media uploads accepted by the media host, in order (per account, or all). */
  mediaUploads(account?: string): UploadRecord[];
  scanQr(qr: string, phone?: string): ScanResult;
  enterPairingCode(phone: string, code: string): Promise<ScanResult>;
  /** Clears faults, policies, the ledger, the upload log and queued inbound messages; keeps
   * accounts, sessions and stored media blobs. */
  reset(): void;
}

export function makeControls(ctx: SimulatorContext): SimulatorControls {
  const requireAccount = (phone: string | undefined): void => {
    if (phone !== undefined && !ctx.accounts.get(phone))
      throw new SimulatorError('unknown_account', `no account ${phone}`);
  };
  const reapply = (account: string | undefined): void => {
    for (const conn of ctx.sessions.targets(account)) conn.applyPolicies();
  };
  return {
    provisionAccount: (options) => {
      if (options?.phone !== undefined && ctx.accounts.get(options.phone)) {
        throw new SimulatorError('bad_request', `account ${options.phone} exists`);
      }
      return provisionAccount(ctx.accounts, options);
    },
    accounts: () =>
      ctx.accounts.list().map((a) => ({
        ...describeAccount(a),
        connected: ctx.sessions.forAccount(a.phone)?.state === 'logged-in',
        queuedInbound: a.offline.length,
        hasKeys: a.bundle !== undefined,
      })),
    sessions: () => ctx.sessions.list().map((c) => c.describe()),
    faults: () => ctx.faults.snapshot(),
    setFaults: (conditions, account) => {
      requireAccount(account);
      ctx.faults.set(account, conditions);
      reapply(account);
      ctx.logger.info({ account, faults: Object.keys(conditions) }, 'faults set');
    },
    clearFaults: (account, keys) => {
      requireAccount(account);
      ctx.faults.clear(account, keys);
      reapply(account);
      ctx.logger.info({ account, keys }, 'faults cleared');
    },
    inject: (action, account) => {
      requireAccount(account);
      const targets = ctx.sessions.targets(account);
      for (const conn of targets) conn.apply(action, 'injected fault');
      return targets.map((c) => c.id);
    },
    pushInbound: (req) => ctx.delivery.push(req),
    ledger: (query) => ctx.ledger.query(query),
    mediaUploads: (account) => ctx.media.store.uploads(account),
    scanQr: (qr, phone) => ctx.pairing.scanQr(qr, phone),
    enterPairingCode: (phone, code) => ctx.pairing.enterCode(phone, code),
    reset: () => {
      ctx.faults.reset();
      ctx.ledger.clear();
      ctx.media.store.clearUploads();
      ctx.delivery.clearQueues();
      reapply(undefined);
      ctx.logger.info('simulator reset');
    },
  };
}

/** JSON text of provisioned credentials, with Buffers as Baileys' BufferJSON expects. */
export const toBufferJson = (value: unknown): string => JSON.stringify(value, BufferJSON.replacer);
