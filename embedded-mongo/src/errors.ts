// Errors that reach the client as MongoDB command errors: {ok: 0, errmsg, code, codeName}.

export const ErrorCodes = {
  InternalError: 1,
  BadValue: 2,
  FailedToParse: 9,
  TypeMismatch: 14,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  PathNotViable: 28,
  ConflictingUpdateOperators: 40,
  CursorNotFound: 43,
  NamespaceExists: 48,
  InvalidNamespace: 73,
  CommandNotFound: 59,
  ImmutableField: 66,
  InvalidOptions: 72,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  InvalidIdField: 53,
  NoSuchKey: 4,
  Location16755: 16755,
  DuplicateKey: 11000,
  Location15955: 15955,
  Location40323: 40323,
  Location40324: 40324,
  Location51108: 51108,
  NotImplemented: 238,
  Unauthorized: 13,
  DBPathInUse: 98,
  NoReplicationEnabled: 76,
  AlreadyInitialized: 23,
  NoMatchingDocument: 47,
  InvalidReplicaSetConfig: 93,
  NotYetInitialized: 94,
  NewReplicaSetConfigurationIncompatible: 103,
  TransactionTooOld: 225,
  CursorKilled: 237,
  InvalidResumeToken: 260,
  ChangeStreamFatalError: 280,
  ChangeStreamHistoryLost: 286,
  NotWritablePrimary: 10107,
  NotPrimaryNoSecondaryOk: 13435,
  NotPrimaryOrSecondary: 13436,
  Location40573: 40573,
  Location40602: 40602,
  Location40674: 40674,
  Location50865: 50865,
  Location40415: 40415,
} as const;

export type ErrorCodeName = keyof typeof ErrorCodes;

export class MongoCommandError extends Error {
  readonly code: number;
  constructor(
    readonly codeName: ErrorCodeName,
    message: string,
    /** Extra fields copied into the error reply (keyPattern, keyValue …). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.code = ErrorCodes[codeName];
  }

  toReply(): Record<string, unknown> {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }
}

export function badValue(message: string): MongoCommandError {
  return new MongoCommandError('BadValue', message);
}
