// How the dashboard shows peer scores and bans (src/lib/core/peers/score.ts).

/** A score with its sign, 2 decimals ("+0.73", "-1.00"); "—" before the peer answered anything. */
export function formatScore(score: number | null | undefined): string {
  if (score == null || !Number.isFinite(score)) return '—';
  const s = score.toFixed(2);
  return score >= 0 ? `+${s}` : s;
}

/** Time left in a ban ("banned 4 min", "banned 35 s"); "—" when not banned. */
export function formatBan(until: number | null | undefined, now: number): string {
  if (until == null || until <= now) return '—';
  const s = Math.ceil((until - now) / 1000);
  if (s < 60) return `banned ${s} s`;
  return `banned ${Math.ceil(s / 60)} min`;
}
