// Recognises the errors of a database that does not answer (stalled, unreachable, failing over):
// the driver's network, timeout and server-selection errors and mongoose's buffering timeout.
// Clients get them as one stable code, 'database/unavailable', and may try again.

const UNAVAILABLE_ERROR_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoOperationTimeoutError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'MongoNotConnectedError',
]);

/** Whether `error`, or an error it wraps (GraphQL's originalError, a cause), says the database did not answer. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const { name, message } = current as { name?: unknown; message?: unknown };
    if (typeof name === 'string' && UNAVAILABLE_ERROR_NAMES.has(name)) return true;
    // mongoose queues commands while it has no connection and gives up after bufferTimeoutMS.
    if (name === 'MongooseError' && typeof message === 'string' && message.includes('buffering timed out')) return true;
    current = (current as { originalError?: unknown; cause?: unknown }).originalError ?? (current as { cause?: unknown }).cause;
  }
  return false;
}
