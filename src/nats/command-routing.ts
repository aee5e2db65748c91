/**
 * Commands when several gateway processes share the accounts (docs/scaling.md): the
 * command service of every process answers on `wa.cmd.>` in one queue group, so a
 * request may reach a process that does not own its account. That process forwards it
 * to the owner (`wa.fwd.<writer>.<subject>`, the owner's own subscription) and relays
 * the reply as is. Forwarded requests are never forwarded again, so a stale view of
 * who owns what cannot make a loop: the owner that no longer has it answers
 * `unavailable`, and the client retries.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { ACCOUNT_VERBS, fwdSubject, WaError } from '../contract/index.js';

export type Location = { at: 'here' } | { at: 'owner'; writer: string } | { at: 'none' };

export type CommandRouter = {
  /** This process's writer id: forwarded commands arrive on `wa.fwd.<writerId>.>`. */
  writerId: string;
  /** Where the account runs: here (or being adopted/handed over here), at another process, or nowhere right now. */
  locate(account: string): Location;
};

/** The forward waits this much longer than the owner's own bound on slow calls, so the owner's `timeout` reply wins. */
const FORWARD_SLACK_MS = 2_000;

export function isAccountVerb(verb: string): boolean {
  return (ACCOUNT_VERBS as readonly string[]).includes(verb);
}

/**
 * The owner's reply to relay, or null when the command runs here. Throws `unavailable`
 * when no process holds the account now (a failover in progress) or the owner did not answer.
 */
export async function forwardIfElsewhere(
  nc: NatsConnection,
  router: CommandRouter,
  account: string,
  subject: string,
  data: Uint8Array,
  callTimeoutMs: number,
  /** A request another process forwarded here: run it here or answer `unavailable`, never forward it again. */
  forwarded = false,
): Promise<Uint8Array | null> {
  const where = router.locate(account);
  if (where.at === 'here') return null;
  if (forwarded)
    // The forwarder's view was stale (the account moved on meanwhile): retryable, never `unknown_account`.
    throw new WaError('unavailable', `account "${account}" has just moved to another gateway process; retry`);
  if (where.at === 'none')
    throw new WaError('unavailable', `no gateway process holds account "${account}" right now (failover?); retry`);
  try {
    const reply = await nc.request(fwdSubject(where.writer, subject), data, {
      timeout: callTimeoutMs + FORWARD_SLACK_MS,
    });
    return reply.data;
  } catch (cause) {
    throw new WaError(
      'unavailable',
      `the gateway process owning account "${account}" (${where.writer}) did not answer; retry`,
      { cause },
    );
  }
}
