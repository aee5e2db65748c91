/**
 * What the bucket `WA_OWNERS` holds (docs/scaling.md): one key per account, whose value
 * says which gateway process (writer id) owns it, and one key per live process, so
 * every process can count the others and compute its fair share. Values are JSON,
 * validated where they are read: a bucket may hold anything a misbehaving client put
 * there, and a value that does not parse is treated as "held by someone unknown".
 */
import { z } from 'zod';
import { isoTimeSchema } from '../contract/fields.js';

export const OWNERS_BUCKET = 'WA_OWNERS';
/** Default lease TTL: under the 10 s, long enough for three renewals to fail before it is lost. */
export const DEFAULT_LEASE_TTL_MS = 9_000;

const LEASE_VERSION = 1;

export const leaseSchema = z.object({
  v: z.literal(LEASE_VERSION),
  /** The owner's writer id (its fencing epoch, `Wa-Fence` on its markers). */
  writer: z.string().min(1).max(64),
  host: z.string().max(255),
  pid: z.number().int(),
  /** `released`: the owner let it go (shutdown, rebalancing); any process may take it at once. */
  state: z.enum(['held', 'released']),
  /** The owner's TTL: a taker waits this long after the last revision change it saw. */
  ttlMs: z.number().int().positive(),
  /** The owner's clock when it wrote this: shown to people, never used to judge expiry. */
  at: isoTimeSchema,
});
export type Lease = z.infer<typeof leaseSchema>;

export const processSchema = z.object({
  v: z.literal(LEASE_VERSION),
  writer: z.string().min(1).max(64),
  host: z.string().max(255),
  pid: z.number().int(),
  maxAccounts: z.number().int().positive(),
  ttlMs: z.number().int().positive(),
  at: isoTimeSchema,
});
export type ProcessRecord = z.infer<typeof processSchema>;

const ACCOUNT_PREFIX = 'acct.';
const PROCESS_PREFIX = 'proc.';

export function accountKey(account: string): string {
  return `${ACCOUNT_PREFIX}${account}`;
}

export function processKey(writer: string): string {
  return `${PROCESS_PREFIX}${writer}`;
}

export type ParsedKey = { kind: 'account'; account: string } | { kind: 'process'; writer: string } | null;

export function parseKey(key: string): ParsedKey {
  if (key.startsWith(ACCOUNT_PREFIX)) return { kind: 'account', account: key.slice(ACCOUNT_PREFIX.length) };
  if (key.startsWith(PROCESS_PREFIX)) return { kind: 'process', writer: key.slice(PROCESS_PREFIX.length) };
  return null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeRecord(value: Lease | ProcessRecord): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** A lease, or null when the bytes are not one (then the key counts as held by an unknown owner). */
export function decodeLease(bytes: Uint8Array): Lease | null {
  try {
    const r = leaseSchema.safeParse(JSON.parse(decoder.decode(bytes)));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export function decodeProcess(bytes: Uint8Array): ProcessRecord | null {
  try {
    const r = processSchema.safeParse(JSON.parse(decoder.decode(bytes)));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
