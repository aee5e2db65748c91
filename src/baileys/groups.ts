/**
 * Groups, receipts and chat state on a Baileys socket (issue 14), kept out of
 * connection.ts: the group list, read receipts and chatstate going out, and per-participant
 * receipts and membership changes coming in.
 */
import {
  isJidGroup,
  type GroupMetadata,
  type GroupParticipant,
  type WAMessage,
  type WAMessageKey,
  type WASocket,
} from '@whiskeysockets/baileys';
import type { ChatState, GroupSummary } from '../contract/index.js';

export interface GroupReceipt {
  waMessageId: string;
  chat: string;
  participant: string;
  status: 'delivered' | 'read';
}

export interface GroupParticipantsChange {
  chat: string;
  action: 'add' | 'remove' | 'promote' | 'demote';
  participants: string[];
  by?: string;
}

export interface GroupEvents {
  groupReceipt(r: GroupReceipt): void;
  groupParticipants(c: GroupParticipantsChange): void;
}

/** An inbound group message's sender, as WhatsApp addressed it: needed to send its read receipt. */
export type ParticipantOf = (chat: string, waMessageId: string) => string | undefined;

const phoneFirst = (jid: string | null | undefined, pn: string | null | undefined): string | undefined =>
  pn && pn.endsWith('@s.whatsapp.net') ? pn : (jid ?? undefined);

const ACTIONS = new Set(['add', 'remove', 'promote', 'demote']);

export function toGroupSummary(meta: GroupMetadata): GroupSummary {
  return {
    jid: meta.id,
    subject: meta.subject,
    ...(meta.owner ? { owner: phoneFirst(meta.owner, meta.ownerPn) } : {}),
    ...(meta.creation ? { creation: new Date(meta.creation * 1000).toISOString() } : {}),
    participants: meta.participants.map((p: GroupParticipant) => ({
      jid: phoneFirst(p.id, p.phoneNumber) ?? p.id,
      role: p.admin === 'superadmin' ? 'superadmin' : p.admin === 'admin' ? 'admin' : 'member',
    })),
  };
}

export async function listGroups(sock: WASocket): Promise<GroupSummary[]> {
  const all = await sock.groupFetchAllParticipating();
  return Object.values(all).map(toGroupSummary);
}

/** Read receipts for `ids` in `chat`; in a group each names the message's sender. */
export async function readMessages(sock: WASocket, chat: string, ids: string[], participantOf: ParticipantOf) {
  const keys: WAMessageKey[] = ids.map((id) => {
    const participant = isJidGroup(chat) ? participantOf(chat, id) : undefined;
    return { remoteJid: chat, id, fromMe: false, ...(participant ? { participant } : {}) };
  });
  await sock.readMessages(keys);
}

export async function sendChatState(sock: WASocket, chat: string, state: ChatState): Promise<void> {
  await sock.sendPresenceUpdate(state, chat);
}

/** Per-participant receipts for our group messages and membership changes, as callbacks. */
export function watchGroups(sock: WASocket, on: GroupEvents): void {
  // LID-addressed groups name participants by LID. Their phone numbers come from Baileys'
  // LID store or, failing that, from the group's metadata (one query per group, remembered).
  const pnByLid = new Map<string, string>();
  const asked = new Set<string>();
  const learn = (participants: GroupParticipant[]) => {
    for (const p of participants) if (p.phoneNumber && p.id.endsWith('@lid')) pnByLid.set(p.id, p.phoneNumber);
  };
  const toPhone = async (jid: string, group: string): Promise<string> => {
    if (!jid.endsWith('@lid')) return jid;
    const bare = withoutDevice(jid);
    const known = pnByLid.get(bare) ?? (await sock.signalRepository.lidMapping.getPNForLID(bare).catch(() => null));
    if (known) return withoutDevice(known);
    if (!asked.has(group)) {
      asked.add(group);
      learn((await sock.groupMetadata(group).catch(() => undefined))?.participants ?? []);
    }
    return pnByLid.get(bare) ?? bare;
  };
  // One after another, so receipts and changes keep their order across the lookups.
  let chain = Promise.resolve();
  const then = (fn: () => Promise<void>) => {
    chain = chain.then(fn).catch(() => undefined);
  };
  const receiptOf = (key: WAMessageKey, r: UserReceipt): void => {
    if (!key.fromMe || !key.id || !key.remoteJid || !isJidGroup(key.remoteJid) || !r.userJid) return;
    const [id, chat, user] = [key.id, key.remoteJid, r.userJid];
    then(async () => {
      const base = { waMessageId: id, chat, participant: await toPhone(user, chat) };
      if (r.receiptTimestamp) on.groupReceipt({ ...base, status: 'delivered' });
      if (r.readTimestamp) on.groupReceipt({ ...base, status: 'read' });
    });
  };
  sock.ev.on('message-receipt.update', (updates) => {
    for (const { key, receipt } of updates) receiptOf(key, receipt);
  });
  // Baileys' event buffer folds receipts into the upsert of our own message when both are
  // pending at once.
  sock.ev.on('messages.upsert', ({ messages }) => {
    for (const m of messages as WAMessage[]) for (const r of m.userReceipt ?? []) receiptOf(m.key, r);
  });
  sock.ev.on('group-participants.update', (u) => {
    if (!ACTIONS.has(u.action) || u.participants.length === 0) return;
    learn(u.participants);
    then(async () => {
      const by = u.authorPn ?? (u.author ? await toPhone(u.author, u.id) : undefined);
      on.groupParticipants({
        chat: u.id,
        action: u.action as GroupParticipantsChange['action'],
        participants: await Promise.all(u.participants.map((p) => toPhone(p.phoneNumber ?? p.id, u.id))),
        ...(by ? { by: withoutDevice(by) } : {}),
      });
    });
  });
}

type UserReceipt = { userJid?: string | null; readTimestamp?: unknown; receiptTimestamp?: unknown };

/** `491…:0@s.whatsapp.net` → `491…@s.whatsapp.net`. */
const withoutDevice = (jid: string): string => jid.replace(/:\d+@/, '@');
