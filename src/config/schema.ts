/**
 * The gateway's configuration: one file (YAML or JSON) plus environment variables,
 * validated here and nowhere else. Every key has a default, so no file at all runs one
 * account `default` against WhatsApp with NATS on localhost.
 */
import { z } from 'zod';
import { ACCOUNT_ID_PATTERN, KEEPALIVE_STRATEGIES } from '../contract/index.js';

const ms = (what: string) => z.number().int().positive().describe(what);

export const timingsSchema = z
  .object({
    idleAfterMs: ms('probe after this long (see docs/machine.md)'),
    probeJitterMs: z.number().int().min(0),
    pingTimeoutMs: ms('no probe answer within this: the link is dead'),
    connectTimeoutMs: ms('give a connection attempt up after this'),
    drainTimeoutMs: ms('wait this long for in-flight acks before a planned close'),
    backoffBaseMs: ms('first reconnect delay ceiling'),
    backoffCapMs: ms('largest reconnect delay ceiling'),
    stableAfterMs: ms('an open period this long resets the backoff'),
    stallThresholdMs: ms('a probe deadline this late is blamed on the event loop'),
    maxStallRetries: z.number().int().min(0),
  })
  .partial()
  .strict();

export const accountSettingsSchema = z
  .object({
    keepalive: z.enum(KEEPALIVE_STRATEGIES).optional(),
    presenceEveryMs: ms('with keepalive both: send a presence update at least this often').optional(),
    inboundResetsIdle: z.boolean().optional(),
    timings: timingsSchema.optional(),
  })
  .strict();

export const accountSchema = accountSettingsSchema
  .extend({
    id: z.string().regex(ACCOUNT_ID_PATTERN, 'account ids are 1–32 of a-z 0-9 _ - starting with a letter or digit'),
    /** Connect at start (default true). */
    connect: z.boolean().default(true),
  })
  .strict();

export const configSchema = z
  .object({
    dataDir: z.string().min(1).default('.data'),
    log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).strict().default({ level: 'info' }),
    nats: z
      .object({
        url: z.string().regex(/^(nats|tls|ws|wss):\/\/\S+$/, 'a nats://host:port URL').default('nats://127.0.0.1:4222'),
        user: z.string().optional(),
        pass: z.string().optional(),
        token: z.string().optional(),
        /** A .creds file (JWT + nkey), as the nats CLI uses. */
        credsFile: z.string().optional(),
        tls: z.object({ ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional() }).strict().optional(),
        /** When nothing answers at `url` (localhost only) and nats-server is installed, start one. */
        startLocal: z.boolean().default(true),
      })
      .strict()
      .default({ url: 'nats://127.0.0.1:4222', startLocal: true }),
    stream: z
      .object({
        maxAgeMs: ms('events older than this are dropped from WA_EVENTS').optional(),
        maxBytes: z.number().int().positive().optional(),
        duplicateWindowMs: ms('Nats-Msg-Id dedupe window').optional(),
        replicas: z.number().int().min(1).max(5).optional(),
      })
      .strict()
      .default({}),
    http: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        /** Bearer token required on every endpoint but /healthz when set. */
        token: z.string().min(16, 'use at least 16 characters').optional(),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8080 }),
    whatsapp: z
      .object({
        /** WebSocket URL of the server; WhatsApp's own when absent. */
        url: z.string().regex(/^wss?:\/\/\S+$/, 'a ws:// or wss:// URL').optional(),
        /**
         * Base64 root public key to trust instead of WhatsApp's (the simulator's). Never
         * set this in production: the process then talks only to that server.
         */
        trustRootPublicKey: z.string().optional(),
      })
      .strict()
      .default({}),
    defaults: accountSettingsSchema.default({}),
    accounts: z.array(accountSchema).default([{ id: 'default', connect: true }]),
    /** Expose every account actor to the Stately inspector (@statelyai/inspect). */
    inspect: z.boolean().default(false),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.accounts.forEach((a, i) => {
      if (seen.has(a.id)) ctx.addIssue({ code: 'custom', path: ['accounts', i, 'id'], message: `account id ${a.id} appears twice` });
      seen.add(a.id);
    });
  });

export type Config = z.infer<typeof configSchema>;
export type AccountConfig = Config['accounts'][number];
