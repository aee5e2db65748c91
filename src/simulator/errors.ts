// One error type for the simulator with a closed union of codes (STYLE: errors carry a code
// and are checked by code). The control API turns it into `{ok:false,error:{code,message}}`.
export type SimulatorErrorCode =
  | 'bad_request'
  | 'unknown_account'
  | 'unknown_ref'
  | 'not_found'
  | 'not_connected'
  | 'protocol_error'
  | 'handshake_failed';

export class SimulatorError extends Error {
  override readonly name = 'SimulatorError';
  constructor(
    readonly code: SimulatorErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isSimulatorError = (err: unknown): err is SimulatorError => err instanceof SimulatorError;

/** HTTP status for each code: client mistakes are 4xx, never a stack trace. */
export function httpStatusOf(code: SimulatorErrorCode): number {
  switch (code) {
    case 'bad_request':
      return 400;
    case 'unknown_account':
    case 'unknown_ref':
    case 'not_found':
      return 404;
    case 'not_connected':
      return 409;
    case 'protocol_error':
    case 'handshake_failed':
      return 500;
    default: {
      const never: never = code;
      return never;
    }
  }
}
