// Reading the answers of HTTP endpoints Charla sends to (channel callbacks, Bot APIs, webhooks).

/** A server error, a timeout (408) or "slow down" (429) may pass; other refusals will not. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** The answer's JSON, or undefined when it is not JSON. */
export function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
