/**
 * What kind of failure an RwdaError is, for callers that react differently (retry, train first, ask the user):
 * - `bad_input`: a value, flag, option or file content is invalid (the default);
 * - `not_found`: a file, folder, model, detector or cached entry that was named does not exist;
 * - `unsupported`: well-formed but outside what rwda implements (a model variant, format, dtype, platform);
 * - `io`: reading or writing the disk failed (permissions, no space, a folder that cannot be made);
 * - `network`: a download failed (connection, HTTP status, a server that sends other bytes than announced);
 * - `conflict`: two valid things that do not go together (a detector trained for another backbone, an
 *   output path already taken by something else, a lock held by another process).
 */
export type RwdaErrorCode = 'bad_input' | 'not_found' | 'unsupported' | 'io' | 'network' | 'conflict';

/**
 * The one error type users see: a message that names the file, key or field at fault, and a `code`.
 * CLI entry points print `err.message` without a stack trace for RwdaError.
 */
export class RwdaError extends Error {
  override name = 'RwdaError';
  /** The kind of failure; `bad_input` unless the throw site says otherwise. */
  readonly code: RwdaErrorCode;
  constructor(message: string, options?: { code?: RwdaErrorCode; cause?: unknown }) {
    super(message, options !== undefined && 'cause' in options ? { cause: options.cause } : undefined);
    this.code = options?.code ?? 'bad_input';
  }
}

/** The code for a failed file-system call: a missing path is `not_found`, a folder where a file belongs `bad_input`, anything else (permissions, disk) `io`. */
export function fsErrorCode(err: unknown): RwdaErrorCode {
  const c = (err as NodeJS.ErrnoException | undefined)?.code;
  return c === 'ENOENT' ? 'not_found' : c === 'EISDIR' ? 'bad_input' : 'io';
}
