/**
 * The account machine's state names. They are part of the contract: users see them
 * in `transition` events, `status` replies and the inspector, so renaming one is a
 * breaking change (test/contract pins this tuple). The machine defines them
 * (machines/account/states.ts, checked there against its states); this is their
 * published name.
 */
import { ACCOUNT_STATE_NAMES, type AccountStateName } from '../../machines/account/states.js';

export const ACCOUNT_STATES = ACCOUNT_STATE_NAMES;

export type AccountState = AccountStateName;

export function isAccountState(value: unknown): value is AccountState {
  return typeof value === 'string' && (ACCOUNT_STATES as readonly string[]).includes(value);
}
