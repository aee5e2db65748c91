// Which of Baileys' error-level lines are routine (lowered) and which stay errors.
import { describe, expect, it } from 'vitest';
import { baileysErrorLevel } from '../../src/baileys/log-levels.js';

/** What Baileys throws: an Error with a Boom `output.statusCode`. */
const boom = (message: string, statusCode: number) => Object.assign(new Error(message), { output: { statusCode } });

const streamError = (
  attrs: Record<string, string>,
  content: { tag: string; attrs: Record<string, string> }[] = [],
) => ({
  reasonNode: content[0],
  fullErrorNode: { tag: 'stream:error', attrs, content },
});

describe('baileysErrorLevel', () => {
  it('lowers a stream error the machine reconnects from to info', () => {
    for (const code of ['408', '428', '500', '503', '515'])
      expect(baileysErrorLevel(streamError({ code }), 'stream errored out')).toBe('info');
  });

  it('keeps a stream error an operator must act on visible at warn', () => {
    expect(baileysErrorLevel(streamError({ code: '401' }), 'stream errored out')).toBe('warn');
    expect(
      baileysErrorLevel(streamError({}, [{ tag: 'conflict', attrs: { type: 'replaced' } }]), 'stream errored out'),
    ).toBe('warn');
    // A code no policy knows: not routine.
    expect(baileysErrorLevel(streamError({ code: '499' }), 'stream errored out')).toBe('warn');
  });

  it('lowers errors caused by the link going away (timed out, closed, a close code)', () => {
    expect(baileysErrorLevel({ err: boom('Timed Out', 408) }, 'error in validating connection')).toBe('info');
    expect(baileysErrorLevel({ err: boom('Connection Closed', 428) }, 'error in validating connection')).toBe('info');
    expect(
      baileysErrorLevel(
        { error: boom('Connection Closed', 428) },
        'Failed to check/upload pre-keys during initialization',
      ),
    ).toBe('info');
    expect(baileysErrorLevel({ err: 1000 }, "unexpected error in 'init queries'")).toBe('info');
  });

  it('keeps everything else at error', () => {
    expect(baileysErrorLevel({ err: boom('certification match failed', 400) }, 'error in validating connection')).toBe(
      'error',
    );
    expect(baileysErrorLevel({ err: new Error('boom') }, "unexpected error in 'handling x'")).toBe('error');
    expect(baileysErrorLevel({ error: new Error('bad mac') }, 'failed to decrypt message')).toBe('error');
    expect(baileysErrorLevel('a string', undefined)).toBe('error');
  });
});
