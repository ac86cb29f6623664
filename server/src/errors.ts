// The one error type raised on purpose. Its code ('area/reason') is stable and reaches clients
// (GraphQL `extensions.code`); any other error is masked as an internal error and logged.
export type ErrorCode = `${string}/${string}`;

export class AppError extends Error {
  override readonly name = 'AppError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}
