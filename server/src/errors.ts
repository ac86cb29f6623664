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

export const unauthenticated = (): AppError => new AppError('auth/unauthenticated', 'Sign in first: the token is missing, invalid or expired');
export const forbidden = (what = 'this'): AppError => new AppError('auth/forbidden', `You may not access ${what}`);
export const notFound = (area: string): AppError => new AppError(`${area}/not_found`, `No such ${area.replace(/_/g, ' ')}`);
export const invalidInput = (field: string, message: string): AppError =>
  new AppError('input/invalid', `${field}: ${message}`, { field });
