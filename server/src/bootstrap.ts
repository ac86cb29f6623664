// First start on an empty database: the account, its administrator and (unless CHARLA_DEMO=0) a
// demo agent and a "Website" inbox.
import type { Services } from './services.ts';

export interface BootstrapReport {
  /** True when this start created the account. */
  created: boolean;
  /** Set only when this start generated the administrator's password (printed once). */
  generatedAdminPassword?: string;
  websiteToken?: string;
}

export async function bootstrapInstallation(_services: Services): Promise<BootstrapReport> {
  return { created: false };
}
