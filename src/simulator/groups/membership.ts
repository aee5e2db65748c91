// Membership changes (control API `POST /groups/participants`): applied to the directory,
// then pushed as `<notification type=w:gp2>` to every connected account that is or was in
// the group (Baileys turns it into `group-participants.update`). Like presence, a
// notification for an account that is not connected is not queued: the next
// `groupMetadata` answer carries the new membership.
import type { BinaryNode } from '../wa.js';
import { SimulatorError } from '../errors.js';
import { pnJid } from '../accounts/jids.js';
import type { SimulatorContext } from '../session/context.js';
import { newMessageId } from '../session/delivery.js';
import { memberJid, participantNode, type MembershipAction } from './directory.js';

export interface MembershipChange {
  group: string;
  action: MembershipAction;
  participants: string[];
  /** Who made the change (a participant phone); default the owner. */
  by?: string;
}

export interface MembershipResult {
  /** Phones whose membership or role changed. */
  changed: string[];
  /** Accounts that were sent the notification. */
  notified: string[];
}

export function changeMembership(ctx: SimulatorContext, c: MembershipChange): MembershipResult {
  const group = ctx.groups.require(c.group);
  const by = c.by ?? group.owner;
  if (!group.participants.has(by)) throw new SimulatorError('bad_request', `${by} is not in ${group.jid}`);
  const before = new Set(group.participants.keys());
  const changed = ctx.groups.change(group, c.action, c.participants);
  for (const phone of changed) ctx.contacts.know(phone);
  const notified: string[] = [];
  if (changed.length === 0) return { changed, notified };
  const node: BinaryNode = {
    tag: 'notification',
    attrs: {
      from: group.jid,
      type: 'w:gp2',
      id: newMessageId(),
      participant: memberJid(group, by),
      ...(group.addressingMode === 'lid' ? { participant_pn: pnJid(by) } : {}),
      t: String(Math.floor(Date.now() / 1000)),
    },
    content: [
      { tag: c.action, attrs: {}, content: changed.map((p) => participantNode(group, p, group.participants.get(p))) },
    ],
  };
  for (const phone of new Set([...before, ...group.participants.keys()])) {
    const conn = ctx.sessions.forAccount(phone);
    if (conn?.state === 'logged-in' && conn.send(node)) notified.push(phone);
  }
  return { changed, notified };
}
