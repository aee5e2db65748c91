/**
 * `/readyz`: ready when NATS is connected (commands arrive, events are stored) and every
 * enabled account is in a *known* state. An account's state is known once its first
 * connection attempt since start has an outcome: the machine has been somewhere other
 * than `stopped` and `connecting` (open, pairing, reconnecting, loggedOut, …, or back
 * in `stopped` after leaving `connecting`). A reconnect later does not make the gateway
 * unready: the state is still known, and restarting the process would not help.
 * "Enabled" = in the config with `connect: true`; accounts added at run time or with
 * `connect: false` are listed but do not gate readiness.
 *
 * Ready does not mean connected: an account that cannot reach WhatsApp is in a known
 * state (reconnecting) and restarting would not help. `connected` counts the accounts
 * whose link is up, so "ready, 0 connected" is visible at a glance.
 */
import { ONLINE_STATES } from '../../machines/index.js';
import type { AccountState } from '../contract/index.js';

/** States the first connection attempt passes through before it has an outcome. */
const STARTING: ReadonlySet<string> = new Set(['stopped', 'connecting']);

const CONNECTED: ReadonlySet<string> = new Set(ONLINE_STATES);

export interface Readiness {
  ready: boolean;
  nats: boolean;
  /** Accounts whose link to WhatsApp is up now (open, idle, pinging). */
  connected: number;
  accounts: Record<string, { state: AccountState | null; known: boolean; enabled: boolean }>;
}

export class ReadinessTracker {
  /** Accounts whose first attempt has had an outcome since this process started. */
  readonly #settled = new Set<string>();

  constructor(
    private readonly o: {
      natsConnected: () => boolean;
      /** Configured with `connect: true`. */
      enabled: readonly string[];
      accounts: () => { account: string; state: AccountState }[];
    },
  ) {}

  /** Fed with every transition the runtime reports (facts, so it works while NATS is away). */
  observe(account: string, to: AccountState, from: AccountState): void {
    if (!STARTING.has(to) || from === 'connecting') this.#settled.add(account);
  }

  check(): Readiness {
    const running = new Map(this.o.accounts().map((a) => [a.account, a.state]));
    const accounts: Readiness['accounts'] = {};
    let allKnown = true;
    const enabled = new Set(this.o.enabled);
    for (const account of new Set([...this.o.enabled, ...running.keys()])) {
      const state = running.get(account) ?? null;
      const known = state !== null && (this.#settled.has(account) || !STARTING.has(state));
      if (enabled.has(account) && !known) allKnown = false;
      accounts[account] = { state, known, enabled: enabled.has(account) };
    }
    const nats = this.o.natsConnected();
    const connected = [...running.values()].filter((state) => CONNECTED.has(state)).length;
    return { ready: nats && allKnown, nats, connected, accounts };
  }
}
