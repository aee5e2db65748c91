/**
 * Counters for what did not go as sent: inbound messages Baileys could not decrypt,
 * sends WhatsApp refused, temporary bans. Folded from the events like the rest of
 * metrics.ts; labels stay bounded (the decryption error and the refusal by kind, never
 * free text).
 */
import { Counter, type Registry } from 'prom-client';
import { undecryptableKind } from '../baileys/undecryptable.js';
import type { EventOf } from '../contract/index.js';

export interface DeliveryProblemMetrics {
  undecryptable(event: EventOf<'message.undecryptable'>): void;
  failed(event: EventOf<'send.failed'>): void;
  banned(event: EventOf<'account.banned'>): void;
}

export function deliveryProblemMetrics(registers: Registry[]): DeliveryProblemMetrics {
  const undecryptable = new Counter({
    name: 'wa_messages_undecryptable_total',
    help: 'Inbound messages Baileys could not decrypt (message.undecryptable), by kind: bad_mac, no_session, invalid_prekey, no_content, key_used, other. Each was asked for again; one that then decrypts also counts as a message.in.',
    labelNames: ['account', 'kind'] as const,
    registers,
  });
  const refusals = new Counter({
    name: 'wa_send_refusals_total',
    help: 'Sends WhatsApp refused with an error ack (send.failed with a statusCode), by code and whether a later new send may succeed.',
    labelNames: ['account', 'code', 'retryable'] as const,
    registers,
  });
  const bans = new Counter({
    name: 'wa_account_bans_total',
    help: 'Temporary bans (402) announced by WhatsApp (account.banned).',
    labelNames: ['account'] as const,
    registers,
  });
  return {
    undecryptable: (e) => undecryptable.inc({ account: e.account, kind: undecryptableKind(e.reason) }),
    failed: (e) => {
      if (e.statusCode === undefined) return;
      refusals.inc({ account: e.account, code: String(e.statusCode), retryable: String(e.retryable ?? false) });
    },
    banned: (e) => bans.inc({ account: e.account }),
  };
}
