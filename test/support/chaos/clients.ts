/**
 * The chaos run's clients: per account several concurrent senders, each taking the next
 * planned send when its time comes and retrying the **same id** on `unavailable`, a
 * timeout or no answer at all (gateway killed, NATS restarting), as the contract tells a
 * client to. The same id must never make a second WhatsApp message.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { cmdSubject } from '../../../src/contract/index.js';
import { request } from '../nats-client.js';
import type { PlannedRequest } from './plan.js';

/** A send reply slower than this is retried: the gateway may be dead or starting. */
const SEND_TIMEOUT_MS = 5_000;
/** A client gives a send up after this (the run then reports it as not accepted). */
const GIVE_UP_MS = 120_000;

export type ClientStats = {
  accepted: Map<string, { n: number; seq: number }>;
  /** Answered with a non-retryable error (code per send). */
  refused: Map<string, string>;
  gaveUp: string[];
  retries: number;
  /** Retries by reason: an error code, `timeout` (no answer in time) or `no-answer`. */
  retryReasons: Map<string, number>;
};

export function newClientStats(): ClientStats {
  return { accepted: new Map(), refused: new Map(), gaveUp: [], retries: 0, retryReasons: new Map() };
}

const RETRYABLE = new Set(['unavailable', 'timeout']);

export type ClientEnv = {
  nc: NatsConnection;
  startedAt: number;
  sleep: (ms: number) => Promise<void>;
  rand: () => number;
  stats: ClientStats;
};

/** Sends one planned request until it is answered (retrying the same id), or gives it up. */
export async function sendOne(env: ClientEnv, r: PlannedRequest): Promise<void> {
  const first = Date.now();
  const body = {
    id: r.id,
    to: r.to,
    text: r.text,
    ...(r.deadlineAfterMs === undefined ? {} : { deadline: first + r.deadlineAfterMs }),
  };
  const key = `${r.account}/${r.id}`;
  const retry = async (reason: string) => {
    env.stats.retries++;
    env.stats.retryReasons.set(reason, (env.stats.retryReasons.get(reason) ?? 0) + 1);
    await env.sleep(50 + Math.floor(env.rand() * 250));
  };
  while (Date.now() - first < GIVE_UP_MS) {
    let reply: Awaited<ReturnType<typeof request>>;
    try {
      reply = await request(env.nc, cmdSubject(r.account, 'send'), body, SEND_TIMEOUT_MS);
    } catch (err) {
      await retry(err instanceof Error && /timeout/i.test(err.message) ? 'timeout' : 'no-answer');
      continue;
    }
    if (reply.ok) {
      env.stats.accepted.set(key, { n: r.n, seq: Number(reply['seq']) });
      return;
    }
    const error = reply['error'] as { code?: string; message?: string } | undefined;
    const code = String(error?.code);
    if (!RETRYABLE.has(code)) {
      env.stats.refused.set(key, `${code} (${error?.message})`);
      return;
    }
    await retry(code);
  }
  env.stats.gaveUp.push(key);
}

/** Runs `clients` senders over one account's planned sends (in plan order); resolves when all are answered. */
export async function runClients(env: ClientEnv, sends: PlannedRequest[], clients: number): Promise<void> {
  const queue = [...sends];
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let r = queue.shift(); r; r = queue.shift()) {
        const wait = env.startedAt + r.atMs - Date.now();
        if (wait > 0) await env.sleep(wait);
        await sendOne(env, r);
      }
    }),
  );
}
