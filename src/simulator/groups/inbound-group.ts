// A contact writing to a group the account is in (control API `POST /inbound` with
// `group`): the stanza is `<message from=<group> participant=<member>>` with the pairwise
// copy of the contact's sender key and the `skmsg` (built in session/delivery.ts).
import { SimulatorError } from '../errors.js';
import { lidJid, lidOf, pnJid } from '../accounts/jids.js';
import type { Group } from './directory.js';

/** Both the account and the writer must be in the group, as on WhatsApp. */
export function checkGroupInbound(group: Group, account: string, from: string): void {
  if (!group.participants.has(account))
    throw new SimulatorError('bad_request', `account ${account} is not in ${group.jid}`);
  if (!group.participants.has(from)) throw new SimulatorError('bad_request', `${from} is not in ${group.jid}`);
}

/** Sender attributes in the group's addressing mode (Baileys' extractAddressingContext). */
export function groupSenderAttrs(group: Group, phone: string): Record<string, string> {
  return group.addressingMode === 'lid'
    ? { from: group.jid, participant: lidJid(lidOf(phone)), participant_pn: pnJid(phone), addressing_mode: 'lid' }
    : { from: group.jid, participant: pnJid(phone), participant_lid: lidJid(lidOf(phone)), addressing_mode: 'pn' };
}
