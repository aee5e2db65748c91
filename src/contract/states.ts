/**
 * The account machine's state names. They are part of the contract: users see them
 * in `transition` events, `status` replies and the inspector, so renaming one is a
 * breaking change (a test checks the machine against this tuple).
 */
export const ACCOUNT_STATES = [
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

export type AccountState = (typeof ACCOUNT_STATES)[number];

export function isAccountState(value: unknown): value is AccountState {
  return typeof value === 'string' && (ACCOUNT_STATES as readonly string[]).includes(value);
}
