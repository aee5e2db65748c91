/**
 * Ownership events (docs/scaling.md): which gateway process writes an account. Apart
 * from events.ts by concept; they are members of the same union and stream.
 *
 * - `owner.acquired`: published by the new owner right after its fence markers, before
 *   its account connects. `previous` is the writer it took over from, if any.
 * - `owner.released`: published by the owner after it drained the account, just before
 *   it marks the lease released (shutdown, rebalancing).
 * - `owner.lost`: published by the *new* owner, before its `owner.acquired`, when it
 *   took a lease that had expired: the old owner stopped renewing (killed, stalled,
 *   partitioned). The old owner cannot publish it: the markers fence it off.
 */
import { z } from 'zod';
import { envelope } from './event-envelope.js';

const writer = z.string().min(1).max(64);

export const ownerAcquiredEventSchema = z.object({
  ...envelope,
  type: z.literal('owner.acquired'),
  writer,
  host: z.string().max(255),
  pid: z.number().int(),
  previous: writer.optional(),
});

export const OWNER_RELEASE_REASONS = ['shutdown', 'rebalance', 'start_failed'] as const;

export const ownerReleasedEventSchema = z.object({
  ...envelope,
  type: z.literal('owner.released'),
  writer,
  reason: z.enum(OWNER_RELEASE_REASONS),
});

export const ownerLostEventSchema = z.object({
  ...envelope,
  type: z.literal('owner.lost'),
  /** The writer whose lease expired. */
  writer,
  /** The writer that took it. */
  by: writer,
});
