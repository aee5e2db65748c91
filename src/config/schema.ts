/**
 * The gateway's configuration: one file (YAML or JSON) plus environment variables,
 * validated here and nowhere else. Every key has a default, so no file at all runs one
 * account `default` against WhatsApp with NATS on localhost.
 */
import { z } from 'zod';
import { accountIdSchema, KEEPALIVE_STRATEGIES, webhookEndpointSchema } from '../contract/index.js';

export { webhookEndpointSchema, type WebhookEndpointConfig } from '../contract/index.js';

const ms = (what: string) => z.number().int().positive().describe(what);

export const timingsSchema = z
  .object({
    idleAfterMs: ms('probe after this long (see docs/machine.md)').exactOptional(),
    probeJitterMs: z
      .number()
      .int()
      .min(0)
      .describe('random delay before a probe, so accounts do not probe in lockstep')
      .exactOptional(),
    pingTimeoutMs: ms('no probe answer within this: the link is dead').exactOptional(),
    connectTimeoutMs: ms('give a connection attempt up after this').exactOptional(),
    drainTimeoutMs: ms('wait this long for in-flight acks before a planned close').exactOptional(),
    ackTimeoutMs: ms(
      'the oldest send in flight not acked within this: the link is dead, resend from it',
    ).exactOptional(),
    backoffBaseMs: ms('first reconnect delay ceiling').exactOptional(),
    backoffCapMs: ms('largest reconnect delay ceiling').exactOptional(),
    stableAfterMs: ms('an open period this long resets the backoff').exactOptional(),
    stallThresholdMs: ms('a probe deadline this late is blamed on the event loop').exactOptional(),
    maxStallRetries: z
      .number()
      .int()
      .min(0)
      .describe('extra probes a stall may earn before the link is declared dead')
      .exactOptional(),
  })
  .strict();

export const accountSettingsSchema = z
  .object({
    keepalive: z
      .enum(KEEPALIVE_STRATEGIES)
      .exactOptional()
      .describe('what a keepalive probe sends: ping IQ, presence update, both, or off (default both)'),
    presenceEveryMs: ms('with keepalive both: send a presence update at least this often').exactOptional(),
    recycleAheadOfDrops: z
      .boolean()
      .exactOptional()
      .describe('when drops come at a steady period, reconnect just before the next one (default true)'),
    inboundResetsIdle: z
      .boolean()
      .exactOptional()
      .describe('true: probe only after inbound silence; false (default): probe on a fixed cadence'),
    timings: timingsSchema.exactOptional().describe('overrides of the machine timings (docs/machine.md)'),
  })
  .strict();

export const accountSchema = accountSettingsSchema
  .extend({
    id: accountIdSchema.describe(
      'account id, one NATS subject token; `accounts` and `webhooks` are reserved (the APIs wa.cmd.accounts|webhooks.<verb>)',
    ),
    /** Connect at start (default true). */
    connect: z.boolean().default(true).describe('connect at start'),
  })
  .strict();

export const webhooksSchema = z
  .object({
    allowPrivateAddresses: z
      .boolean()
      .default(false)
      .describe(
        'allow endpoint URLs whose host is or resolves to a loopback, link-local or unspecified address (a receiver on this machine)',
      ),
    ackWaitMs: ms(
      'a held event not acknowledged within this is redelivered to the next consumer (after a crash)',
    ).default(30_000),
    endpoints: z
      .array(webhookEndpointSchema)
      .default([])
      .describe('endpoints from the config file; more can be added at run time (wa.cmd.webhooks.add)'),
  })
  .strict();

export const configSchema = z
  .object({
    dataDir: z
      .string()
      .min(1)
      .default('.data')
      .describe(
        "credentials with auth.store file (one 0700 folder per account) and a locally started nats-server's store",
      ),
    log: z
      .object({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default('info')
          .describe('pino log level'),
      })
      .strict()
      .default({ level: 'info' }),
    nats: z
      .object({
        url: z
          .string()
          .regex(/^(nats|tls|ws|wss):\/\/\S+$/, 'a nats://host:port URL')
          .default('nats://127.0.0.1:4222')
          .describe('NATS server (JetStream enabled)'),
        user: z.string().optional().describe('user name'),
        pass: z.string().optional().describe('password'),
        token: z.string().optional().describe('auth token'),
        /** A .creds file (JWT + nkey), as the nats CLI uses. */
        credsFile: z.string().optional().describe('a .creds file (JWT + nkey)'),
        tls: z
          .object({
            ca: z.string().optional().describe('CA certificate file'),
            cert: z.string().optional().describe('client certificate file'),
            key: z.string().optional().describe('client key file'),
          })
          .strict()
          .optional(),
        /** When nothing answers at `url` (localhost only) and nats-server is installed, start one. */
        startLocal: z
          .boolean()
          .default(true)
          .describe('when nothing answers at a localhost url and nats-server is installed, start one'),
      })
      .strict()
      .default({ url: 'nats://127.0.0.1:4222', startLocal: true }),
    stream: z
      .object({
        maxAgeMs: ms('events older than this are dropped from WA_EVENTS').exactOptional(),
        maxBytes: z.number().int().positive().exactOptional().describe('WA_EVENTS size limit (oldest dropped)'),
        duplicateWindowMs: ms('Nats-Msg-Id dedupe window').exactOptional(),
        replicas: z.number().int().min(1).max(5).exactOptional().describe('stream replicas (3 in a cluster)'),
      })
      .strict()
      .default({}),
    auth: z
      .object({
        store: z
          .enum(['kv', 'file'])
          .default('kv')
          .describe(
            'where credentials and Signal keys live: kv = NATS KV bucket WA_AUTH (replicated like the streams; any gateway can take an account over), file = one fsynced folder per account under dataDir (one box)',
          ),
        encryptionKeyFile: z
          .string()
          .optional()
          .describe(
            'kv: encrypt auth values (AES-256-GCM) with the keys in this file, one <id>:<base64 of 32 bytes> per line, the current one first; WA_CONND_AUTH_KEY (same format) wins over it (docs/runbook.md, "Auth encryption keys")',
          ),
      })
      .strict()
      .default({ store: 'kv' }),
    whatsapp: z
      .object({
        /** WebSocket URL of the server; WhatsApp's own when absent. */
        url: z
          .string()
          .regex(/^wss?:\/\/\S+$/, 'a ws:// or wss:// URL')
          .optional()
          .describe(
            "WebSocket URL of the WhatsApp server; WhatsApp's own when absent (the simulator in tests and demos)",
          ),
        /**
         * Base64 root public key to trust instead of WhatsApp's (the simulator's). Never
         * set this in production: the process then talks only to that server.
         */
        trustRootPublicKey: z
          .string()
          .optional()
          .describe("base64 certificate root to trust instead of WhatsApp's (the simulator's); never in production"),
      })
      .strict()
      .default({}),
    http: z
      .object({
        host: z
          .string()
          .min(1)
          .default('127.0.0.1')
          .describe(
            'interface the HTTP server (health, metrics, inspector, pairing page) listens on; 0.0.0.0 exposes it beyond this machine',
          ),
        port: z.number().int().min(0).max(65535).default(8080).describe('HTTP port; 0 picks a free one'),
        token: z
          .string()
          .min(16, 'at least 16 characters')
          .optional()
          .describe(
            'bearer token every endpoint but /healthz requires (Authorization: Bearer …); none: open to whoever reaches host:port',
          ),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8080 }),
    inspect: z
      .boolean()
      .default(false)
      .describe(
        'send every account machine to the Stately inspector (stately.ai, needs internet; see docs/observability.md)',
      ),
    webhooks: webhooksSchema
      .default({ allowPrivateAddresses: false, ackWaitMs: 30_000, endpoints: [] })
      .describe('webhook delivery of the event stream (docs/webhooks.md)'),
    defaults: accountSettingsSchema.default({}).describe('settings every account starts from'),
    accounts: z
      .array(accountSchema)
      .default([{ id: 'default', connect: true }])
      .describe('the accounts this gateway runs'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.accounts.forEach((a, i) => {
      if (seen.has(a.id))
        ctx.addIssue({ code: 'custom', path: ['accounts', i, 'id'], message: `account id ${a.id} appears twice` });
      seen.add(a.id);
    });
    const hooks = new Set<string>();
    c.webhooks.endpoints.forEach((e, i) => {
      if (hooks.has(e.id))
        ctx.addIssue({
          code: 'custom',
          path: ['webhooks', 'endpoints', i, 'id'],
          message: `webhook id ${e.id} appears twice`,
        });
      hooks.add(e.id);
    });
  });

export type Config = z.infer<typeof configSchema>;
export type AccountConfig = Config['accounts'][number];
