// Groups the simulated server knows: created through the control API, answered to
// Baileys' `w:g2` queries, and the fan-out list of a group send. A participant is a phone
// number (a contact, or an account's own number); every participant has one device (0),
// like every user of the simulator (usync.ts).
import { randomInt } from 'node:crypto';
import { SimulatorError } from '../errors.js';
import { lidJid, lidOf, PHONE_PATTERN, pnJid } from '../accounts/jids.js';
import type { BinaryNode } from '../wa.js';

export const GROUP_SERVER = 'g.us';
export type AddressingMode = 'lid' | 'pn';
export type ParticipantRole = 'member' | 'admin' | 'superadmin';
export type MembershipAction = 'add' | 'remove' | 'promote' | 'demote';

export interface Group {
  /** `<creator>-<seconds>` like WhatsApp's older ids, or a caller's own digits. */
  id: string;
  jid: string;
  subject: string;
  /** Phone of the creator (superadmin). */
  owner: string;
  creation: number;
  addressingMode: AddressingMode;
  /** Phone → role, in join order. */
  participants: Map<string, ParticipantRole>;
}

export interface GroupInfo {
  jid: string;
  subject: string;
  owner: string;
  creation: number;
  addressingMode: AddressingMode;
  participants: { phone: string; role: ParticipantRole }[];
}

export interface CreateGroupOptions {
  subject: string;
  /** Phones; the first is the owner unless `owner` is given. */
  participants: string[];
  admins?: string[];
  owner?: string;
  id?: string;
  addressingMode?: AddressingMode;
}

export const groupJid = (id: string): string => `${id}@${GROUP_SERVER}`;

export class GroupDirectory {
  private readonly byJid = new Map<string, Group>();

  create(o: CreateGroupOptions): Group {
    const members = [...new Set([...(o.owner ? [o.owner] : []), ...o.participants])];
    for (const phone of members)
      if (!PHONE_PATTERN.test(phone)) throw new SimulatorError('bad_request', `participant ${phone} is not a phone`);
    const owner = members[0];
    if (!owner) throw new SimulatorError('bad_request', 'a group needs at least one participant');
    const creation = Math.floor(Date.now() / 1000);
    const id = o.id ?? `${owner}-${creation}${randomInt(100, 1000)}`;
    const jid = groupJid(id);
    if (this.byJid.has(jid)) throw new SimulatorError('bad_request', `group ${jid} exists`);
    const admins = new Set(o.admins ?? []);
    const participants = new Map<string, ParticipantRole>();
    for (const phone of members)
      participants.set(phone, phone === owner ? 'superadmin' : admins.has(phone) ? 'admin' : 'member');
    const group: Group = {
      id,
      jid,
      subject: o.subject,
      owner,
      creation,
      addressingMode: o.addressingMode ?? 'lid',
      participants,
    };
    this.byJid.set(jid, group);
    return group;
  }

  get(jid: string | undefined): Group | undefined {
    return jid === undefined ? undefined : this.byJid.get(jid);
  }

  require(jid: string): Group {
    const group = this.byJid.get(jid);
    if (!group) throw new SimulatorError('not_found', `no group ${jid}`);
    return group;
  }

  /** Groups `phone` is a participant of. */
  of(phone: string): Group[] {
    return [...this.byJid.values()].filter((g) => g.participants.has(phone));
  }

  list(): GroupInfo[] {
    return [...this.byJid.values()].map(describeGroup);
  }

  /** Applies a membership change; returns the phones it changed (unchanged ones are skipped). */
  change(group: Group, action: MembershipAction, phones: string[]): string[] {
    const changed: string[] = [];
    for (const phone of phones) {
      if (!PHONE_PATTERN.test(phone)) throw new SimulatorError('bad_request', `participant ${phone} is not a phone`);
      const role = group.participants.get(phone);
      if (action === 'add' && role === undefined) group.participants.set(phone, 'member');
      else if (action === 'remove' && role !== undefined) group.participants.delete(phone);
      else if (action === 'promote' && role === 'member') group.participants.set(phone, 'admin');
      else if (action === 'demote' && role === 'admin') group.participants.set(phone, 'member');
      else continue;
      changed.push(phone);
    }
    return changed;
  }

  clear(): void {
    this.byJid.clear();
  }
}

export function describeGroup(g: Group): GroupInfo {
  return {
    jid: g.jid,
    subject: g.subject,
    owner: g.owner,
    creation: g.creation,
    addressingMode: g.addressingMode,
    participants: [...g.participants].map(([phone, role]) => ({ phone, role })),
  };
}

/** A participant's jid in the group's addressing mode. */
export const memberJid = (g: Group, phone: string): string =>
  g.addressingMode === 'lid' ? lidJid(lidOf(phone)) : pnJid(phone);

/** `<participant jid type phone_number|lid>` as Baileys' extractGroupMetadata reads it. */
export function participantNode(g: Group, phone: string, role?: ParticipantRole): BinaryNode {
  const attrs: Record<string, string> =
    g.addressingMode === 'lid'
      ? { jid: lidJid(lidOf(phone)), phone_number: pnJid(phone) }
      : { jid: pnJid(phone), lid: lidJid(lidOf(phone)) };
  if (role === 'admin' || role === 'superadmin') attrs.type = role;
  return { tag: 'participant', attrs };
}

/** The `<group>` node of a metadata answer. */
export function groupNode(g: Group): BinaryNode {
  return {
    tag: 'group',
    attrs: {
      id: g.id,
      subject: g.subject,
      s_t: String(g.creation),
      s_o: memberJid(g, g.owner),
      creation: String(g.creation),
      creator: memberJid(g, g.owner),
      size: String(g.participants.size),
      addressing_mode: g.addressingMode,
    },
    content: [...g.participants].map(([phone, role]) => participantNode(g, phone, role)),
  };
}
