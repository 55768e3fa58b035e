// When a certificate is renewed, by Traefik's rule: the renew period before
// expiry and how often to check both follow the certificates' lifetime
// (--certificatesresolvers.<n>.acme.certificatesDuration, in hours).
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface RenewalRule {
  /** Renew when less than this is left. */
  renewBeforeMs: number;
  /** How often certificates are checked. */
  checkEveryMs: number;
}

export function renewalRule(durationHours: number): RenewalRule {
  const d = durationHours * HOUR;
  if (d >= 365 * DAY) return { renewBeforeMs: 120 * DAY, checkEveryMs: 7 * DAY };
  if (d >= 90 * DAY) return { renewBeforeMs: 30 * DAY, checkEveryMs: DAY };
  if (d >= 30 * DAY) return { renewBeforeMs: 10 * DAY, checkEveryMs: 12 * HOUR };
  if (d >= 7 * DAY) return { renewBeforeMs: DAY, checkEveryMs: HOUR };
  if (d >= DAY) return { renewBeforeMs: 6 * HOUR, checkEveryMs: 10 * 60_000 };
  return { renewBeforeMs: 20 * 60_000, checkEveryMs: 60_000 };
}

export function needsRenewal(notAfter: Date, rule: RenewalRule, now = Date.now()): boolean {
  return notAfter.getTime() - now < rule.renewBeforeMs;
}
