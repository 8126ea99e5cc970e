/**
 * The one error type users see: a message that names the file, key or field at fault.
 * CLI entry points print `err.message` without a stack trace for RwdaError.
 */
export class RwdaError extends Error {
  override name = 'RwdaError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
