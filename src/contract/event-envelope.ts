/** The fields every event of `WA_EVENTS` carries (events.ts, "Versioning"). */
import { z } from 'zod';
import { accountIdSchema, isoTimeSchema } from './fields.js';

export const EVENT_SCHEMA_VERSION = 1;

export const envelope = {
  v: z.literal(EVENT_SCHEMA_VERSION),
  account: accountIdSchema,
  at: isoTimeSchema,
  /** Per-account, gapless, from 1: a reader spots a gap or a repeat without the stream. */
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
};
