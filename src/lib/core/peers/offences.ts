// Which error codes ban the peer that sent the data. Codes are the stable `code` of the core's
// typed errors (src/lib/core/errors.ts, src/lib/core/sync/errors.ts) plus the discovery check.
// Everything here is data an honest node never sends: it verifies what it stores and forwards
// with the same core code, so the sender is either broken or hostile.
//
// Not offences (score only): causal-rule refusals (they depend on what the receiver holds),
// protocol slips (late, duplicate, busy), timeouts, and `broken-chain`: an honest peer that holds
// the other branch of a forked feed serves entries that do not link to our branch until the fork
// evidence arrives, so a broken link alone does not prove the sender dishonest.

/** An announcement on the discovery topic for another peer id than its signed sender. */
export const FORGED_ANNOUNCEMENT = 'forged-announcement';

/** The error codes that ban (SPEC §5: bad signature, wrong network, oversized, malformed; see above for broken chains). */
export const BAN_OFFENCES: ReadonlySet<string> = new Set([
  'bad-signature',
  'wrong-network',
  'oversized-entry',
  'malformed-entry',
  'malformed-payload',
  'foreign-client',
  'sync-malformed',
  'sync-oversized',
  'sync-wrong-network',
  'sync-range-mismatch',
  FORGED_ANNOUNCEMENT
]);

/** True when data failing with `code` bans its sender. */
export function isBanOffence(code: string | undefined): boolean {
  return code !== undefined && BAN_OFFENCES.has(code);
}

/** The `code` of a thrown value (core errors carry one), or undefined. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
