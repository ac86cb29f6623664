// Counts what a security test file tried — attempts, how many were denied, how many were allowed
// on purpose, and failures (a refusal that did not come, or came wrong) — and prints one line in
// afterAll, so the figures of each run can be quoted.
import { afterAll } from 'vitest';

export type SecurityOutcome = 'denied' | 'allowed' | 'failure';

export interface SecurityTally {
  record(outcome: SecurityOutcome, count?: number): void;
  /** Records `denied` when `refused` is true, else `failure`; returns `refused`. */
  expectDenied(refused: boolean): boolean;
  readonly counts: Readonly<Record<SecurityOutcome, number>>;
}

/** A tally for one test file; its summary is printed after the file's tests. */
export function securityTally(name: string): SecurityTally {
  const counts: Record<SecurityOutcome, number> = { denied: 0, allowed: 0, failure: 0 };
  afterAll(() => {
    const attempts = counts.denied + counts.allowed + counts.failure;
    console.log(`[security] ${name}: ${attempts} attempts, ${counts.denied} denied, ${counts.allowed} allowed as listed, ${counts.failure} failures`);
  });
  return {
    counts,
    record(outcome, count = 1) {
      counts[outcome] += count;
    },
    expectDenied(refused) {
      counts[refused ? 'denied' : 'failure'] += 1;
      return refused;
    },
  };
}
