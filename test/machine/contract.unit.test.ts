import { describe, expect, it } from 'vitest';
import { ACCOUNT_STATE_NAMES, accountMachine } from '../../machines/index.js';
import { ACCOUNT_STATES } from '../../src/contract/index.js';

describe('the machine and the NATS contract', () => {
  it('use the same state names', () => {
    expect([...ACCOUNT_STATE_NAMES].sort()).toEqual([...ACCOUNT_STATES].sort());
  });

  it('define a state node for every contract state', () => {
    const leaves = new Set<string>();
    const walk = (node: typeof accountMachine.root) => {
      for (const [key, child] of Object.entries(node.states)) {
        if (Object.keys(child.states).length === 0) leaves.add(key);
        walk(child);
      }
    };
    walk(accountMachine.root);
    expect([...leaves].sort()).toEqual([...ACCOUNT_STATES].sort());
  });
});
