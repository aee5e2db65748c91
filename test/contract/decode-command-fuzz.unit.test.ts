/**
 * Nothing a client sends may crash the gateway: every malformed request must come back
 * as a typed WaError (bad_request or too_large), never a throw and never `internal`.
 * 7 families × 400 runs = 2,800 malformed inputs, plus 1,000 fully random ones.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_VERBS,
  ACCOUNTS_VERBS,
  decodeCommand,
  isAccountId,
  MAX_COMMAND_BYTES,
  WaError,
  type Command,
} from '../../src/contract/index.js';

const RUNS = 400;
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const validSend = { to: '+4915123456789', text: 'hello' };
const subjects = [
  ...ACCOUNT_VERBS.map((v) => `wa.cmd.acct1.${v}`),
  ...ACCOUNTS_VERBS.map((v) => `wa.cmd.accounts.${v}`),
];

function decodeSafely(subject: string, data: Uint8Array | string): Command | WaError {
  let r: Command | WaError | undefined;
  expect(() => {
    r = decodeCommand(subject, data);
  }).not.toThrow();
  return r as Command | WaError;
}

function assertTyped(r: Command | WaError, codes: string[] = ['bad_request']) {
  expect(r).toBeInstanceOf(WaError);
  expect(codes).toContain((r as WaError).code);
  expect((r as WaError).message.length).toBeGreaterThan(0);
}

const notJson = fc.string({ maxLength: 200 }).filter((s) => {
  if (s.length === 0) return false;
  try {
    JSON.parse(s);
    return false;
  } catch {
    return true;
  }
});
const notString = fc.anything().filter((v) => typeof v !== 'string');
const notAccount = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !isAccountId(s) && !s.includes('.'));
const knownVerbs = new Set<string>([...ACCOUNT_VERBS]);
const unknownVerb = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !knownVerbs.has(s));
const sendFields = new Set(['id', 'to', 'text', 'deadline']);
const extraKey = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !sendFields.has(k));

describe('when a client sends malformed commands (fuzz)', () => {
  it('answers bodies that are not JSON with bad_request', () => {
    fc.assert(
      fc.property(fc.constantFrom(...subjects), notJson, (subject, body) => {
        assertTyped(decodeSafely(subject, body));
      }),
      { numRuns: RUNS },
    );
  });

  it('answers wrongly typed send fields with bad_request', () => {
    fc.assert(
      fc.property(fc.constantFrom('to', 'text', 'id', 'deadline'), notString, (field, value) => {
        fc.pre(!(field === 'deadline' && typeof value === 'number'));
        fc.pre(value !== undefined); // JSON drops undefined: that is a valid request
        assertTyped(decodeSafely('wa.cmd.acct1.send', enc({ ...validSend, [field]: value })));
      }),
      { numRuns: RUNS },
    );
  });

  it('answers non-object JSON and random shapes for send with bad_request', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const r = decodeSafely('wa.cmd.acct1.send', JSON.stringify(value) ?? 'null');
        // A random JSON value is a valid send only if it has string `to` and `text`;
        // the generator practically never builds one, and if it does it must decode.
        if (r instanceof WaError) assertTyped(r, ['bad_request', 'too_large']);
        else expect(r.verb).toBe('send');
      }),
      { numRuns: RUNS },
    );
  });

  it('answers unknown verbs with bad_request', () => {
    fc.assert(
      fc.property(fc.constantFrom('acct1', 'accounts'), unknownVerb, (scope, verb) => {
        assertTyped(decodeSafely(`wa.cmd.${scope}.${verb}`, '{}'));
      }),
      { numRuns: RUNS },
    );
  });

  it('answers malformed account ids, in the subject or in the body, with bad_request', () => {
    fc.assert(
      fc.property(notAccount, fc.constantFrom(...ACCOUNT_VERBS), fc.boolean(), (account, verb, inBody) => {
        const r = inBody
          ? decodeSafely('wa.cmd.accounts.add', enc({ account }))
          : decodeSafely(`wa.cmd.${account}.${verb}`, verb === 'send' ? enc(validSend) : '{}');
        assertTyped(r);
      }),
      { numRuns: RUNS },
    );
  });

  it('answers oversize payloads with too_large', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...subjects),
        fc.integer({ min: MAX_COMMAND_BYTES + 1, max: MAX_COMMAND_BYTES * 4 }),
        fc.integer({ min: 0, max: 255 }),
        (subject, size, fill) => {
          assertTyped(decodeSafely(subject, new Uint8Array(size).fill(fill)), ['too_large']);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('answers unknown fields and odd subjects with bad_request', () => {
    fc.assert(
      fc.property(extraKey, fc.jsonValue(), fc.string({ maxLength: 60 }), (key, value, oddSubject) => {
        assertTyped(decodeSafely('wa.cmd.acct1.send', enc({ ...validSend, [key]: value })));
        fc.pre(!/^wa\.cmd\.[^.]+\.[^.]+$/.test(oddSubject));
        assertTyped(decodeSafely(oddSubject, enc(validSend)));
      }),
      { numRuns: RUNS },
    );
  });

  it('never throws on arbitrary subjects and bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...subjects), fc.string({ maxLength: 40 })),
        fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 300 })),
        (subject, data) => {
          const r = decodeSafely(subject, data);
          if (r instanceof WaError) expect(['bad_request', 'too_large']).toContain(r.code);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
