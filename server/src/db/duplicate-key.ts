// Recognises MongoDB's duplicate-key error (code 11000): a unique index refused a write, which
// callers turn into "already taken" or into "somebody else just did it, use theirs".
export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}
