/**
 * Keepalive strategies: what the machine's probe sends. The machine decides *when* to
 * probe and when a link is dead; the strategy decides *what* goes on the wire.
 *
 * - `ping`: the `w:p` ping IQ; the reply proves the link and gives a round trip.
 * - `presence`: a presence update, an application stanza that resets server-side idle
 *   timers (the field report's suspect). There is no reply, so it proves nothing about
 *   the link: a half-open link is then only noticed when the socket errors.
 * - `both` (default): a ping every probe, plus a presence update whenever the last one
 *   is older than `presenceEveryMs` — liveness from the ping, the idle timer reset from
 *   the presence, without a presence stanza every few seconds.
 * - `off`: nothing is sent; the probe counts as answered. Only for reproducing the
 *   408 loop (what a gateway without an application keepalive suffers).
 */
import type { KeepaliveStrategy } from '../contract/index.js';
import type { ProbeKind } from '../baileys/connection.js';

/** Well under the ~15–16 min server idle timer of the field report, with margin for drops. */
export const DEFAULT_PRESENCE_EVERY_MS = 5 * 60_000;

export const DEFAULT_KEEPALIVE: KeepaliveStrategy = 'both';

/** What to send for one probe, given when the last presence went out. */
export function probePlan(
  strategy: KeepaliveStrategy,
  lastPresenceAt: number | null,
  now: number,
  presenceEveryMs: number,
): ProbeKind[] {
  switch (strategy) {
    case 'ping':
      return ['ping'];
    case 'presence':
      return ['presence'];
    case 'both':
      return lastPresenceAt === null || now - lastPresenceAt >= presenceEveryMs ? ['presence', 'ping'] : ['ping'];
    case 'off':
      return [];
    default: {
      const unreachable: never = strategy;
      return unreachable;
    }
  }
}
