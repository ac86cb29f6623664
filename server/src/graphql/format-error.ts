// Decides what a GraphQL client learns about an error: AppErrors keep their message and code,
// GraphQL's own errors (syntax, validation, bad input) pass through, anything else is masked.
import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';

export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof AppError) {
      return {
        message: original.message,
        path: formatted.path,
        locations: formatted.locations,
        extensions: { code: original.code, ...(original.details && { details: original.details }) },
      };
    }
    if (isDatabaseUnavailable(original)) {
      // Not a bug to mask: the database stalled or is out of reach. A stable code lets clients say so and retry.
      logger.warn({ err: original, path: formatted.path }, 'the database did not answer a GraphQL operation');
      return replaced(formatted, 'The database is not answering right now; try again in a moment', 'database/unavailable');
    }
    if (isGraphQLError(original)) {
      // Our own validation rules (operation limits) carry an 'area/reason' code; Apollo wraps them
      // as GRAPHQL_VALIDATION_FAILED, so restore the specific one.
      const ownCode = (original as { originalError?: { extensions?: { code?: unknown } } }).originalError?.extensions?.code;
      if (typeof ownCode === 'string' && ownCode.includes('/')) {
        return { ...formatted, extensions: { ...formatted.extensions, code: ownCode } };
      }
      return formatted;
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error in a GraphQL operation');
    return replaced(formatted, 'Internal server error', 'INTERNAL_SERVER_ERROR');
  };
}

/** The error's place in the operation with our own message and code instead of what it said. */
function replaced(formatted: GraphQLFormattedError, message: string, code: string): GraphQLFormattedError {
  return { message, path: formatted.path, locations: formatted.locations, extensions: { code } };
}

// Not `instanceof`: graphql ships a CommonJS and an ESM build, and a test runner or bundler may
// load one for Apollo and the other for this file. Every GraphQLError (and Apollo's subclasses)
// carries this tag.
function isGraphQLError(error: unknown): boolean {
  return Object.prototype.toString.call(error) === '[object GraphQLError]';
}
