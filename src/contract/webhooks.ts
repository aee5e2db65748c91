/**
 * A webhook endpoint, as the config file and `wa.cmd.webhooks.add` both give it
 * (docs/webhooks.md): one schema, so an endpoint added at run time is checked exactly
 * like a configured one.
 */
import { z } from 'zod';
import { EVENT_TYPES } from './events.js';
import { accountIdSchema } from './fields.js';

const ms = (what: string) => z.number().int().positive().describe(what);

/** An endpoint id: one token of a consumer name (`wh_<id>`) and of a KV key. */
export const WEBHOOK_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;

export const webhookRetrySchema = z
  .object({
    attempts: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(10)
      .describe('deliveries of one event before it is dead-lettered (the first included)'),
    baseMs: ms('first retry delay ceiling (exponential, full jitter)').default(500),
    capMs: ms('largest retry delay (and largest Retry-After honoured)').default(60_000),
  })
  .strict();

export const webhookEndpointSchema = z
  .object({
    id: z
      .string()
      .regex(WEBHOOK_ID_PATTERN, `expected ${WEBHOOK_ID_PATTERN.source}`)
      .describe('endpoint id (names its durable consumer wh_<id>)'),
    url: z
      .url({ protocol: /^https?$/, error: 'an http:// or https:// URL' })
      .max(2048)
      .describe('where events are POSTed'),
    /** Standard Webhooks secret: base64 of 24–64 random bytes, optionally prefixed `whsec_`. */
    secret: z
      .string()
      .regex(
        /^(whsec_)?[A-Za-z0-9+/]{32,88}={0,2}$/,
        'a Standard Webhooks secret: base64 of 24-64 bytes, optionally prefixed whsec_',
      )
      .describe('signing secret (Standard Webhooks: whsec_ + base64 of 24-64 random bytes); never logged'),
    accounts: z.array(accountIdSchema).max(1000).exactOptional().describe('only these accounts (default all)'),
    types: z
      .array(z.enum(EVENT_TYPES))
      .exactOptional()
      .describe('only these event types (default all but webhook.dead_lettered)'),
    timeoutMs: ms('one request gives up after this').default(10_000),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(256)
      .default(8)
      .describe('accounts delivered in parallel (each account stays in order)'),
    batch: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(1)
      .describe(
        'events of one account per request at most; 1 (default) = one event per request. More: {type:"batch", data:[…]} (docs/webhooks.md)',
      ),
    retry: webhookRetrySchema.default({ attempts: 10, baseMs: 500, capMs: 60_000 }).describe('retry policy'),
    startAt: z
      .enum(['new', 'all'])
      .default('new')
      .describe("where a new endpoint's consumer starts: events after it was created, or all in the stream"),
  })
  .strict();

export type WebhookEndpointConfig = z.infer<typeof webhookEndpointSchema>;
