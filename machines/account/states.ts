/**
 * The account machine's state names: the leaves of machine.ts (`online` only groups
 * three of them). Users see them in `transition` events, `status` replies and the
 * inspector; src/contract/states.ts publishes this tuple as the contract's, in this
 * order, so renaming one is a breaking change. state-name.ts checks at compile time that
 * both lists below match the machine's definition.
 */
export const ACCOUNT_STATE_NAMES = [
  'connecting',
  'open',
  'idle',
  'pinging',
  'draining',
  'reconnecting',
  'pairing',
  'loggedOut',
  'stopped',
] as const;
export type AccountStateName = (typeof ACCOUNT_STATE_NAMES)[number];

/** The children of `online`: logged in, and a send goes straight out. */
export const ONLINE_STATES = ['open', 'idle', 'pinging'] as const satisfies readonly AccountStateName[];
export type OnlineStateName = (typeof ONLINE_STATES)[number];

export function isOnline(state: string | null | undefined): state is OnlineStateName {
  return (ONLINE_STATES as readonly (string | null | undefined)[]).includes(state);
}
