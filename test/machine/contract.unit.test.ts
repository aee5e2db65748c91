import { describe, expect, it } from 'vitest';
import { ACCOUNT_STATE_NAMES, accountMachine, ONLINE_STATES } from '../../machines/index.js';
import { ACCOUNT_STATES } from '../../src/contract/index.js';

describe('the machine and the NATS contract', () => {
  it('use the same state names: the contract publishes the machine’s', () => {
    expect(ACCOUNT_STATES).toBe(ACCOUNT_STATE_NAMES);
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

  it('call exactly the children of `online` online', () => {
    expect(Object.keys(accountMachine.root.states['online']!.states).sort()).toEqual([...ONLINE_STATES].sort());
  });
});
