// The relay's refusals, logged: connections and reservations its limits turn away (per-IP caps,
// the per-IP connection rate, an abusive IP, a banned peer), and each IP that turns abusive. The
// counters are on /metrics; the log says who was refused and why when it happens. At most one
// line per source and reason per window, with how many more were refused since the last line, so
// a flood cannot flood the log.
import { ABUSE_LIMITS } from './limits.js';

export type RefusalReason =
  'connection-cap' | 'connection-rate' | 'abusive-ip' | 'reservation-cap' | 'abusive-reservation' | 'banned-peer';

const WHY: Record<RefusalReason, [what: 'connection' | 'reservation', why: string]> = {
  'connection-cap': ['connection', 'its IP holds the most connections allowed per IP (--max-connections-per-ip)'],
  'connection-rate': ['connection', 'its IP opens connections faster than allowed per IP'],
  'abusive-ip': ['connection', 'its IP is abusive (relay/ip-abuse.ts, --ip-abuse-threshold)'],
  'reservation-cap': ['reservation', 'its IP holds the most reservations allowed per IP (--max-reservations-per-ip)'],
  'abusive-reservation': ['reservation', 'its IP is abusive (relay/ip-abuse.ts, --ip-abuse-threshold)'],
  'banned-peer': ['connection', 'the peer is banned for invalid gossip']
};

/** One line per source and reason at most this often, ms. */
export const REFUSAL_LOG_WINDOW_MS = 10_000;
/** Sources and reasons remembered (the oldest is forgotten first). */
const MAX_KEYS = 1024;

export class RefusalLog {
  private readonly last = new Map<string, { at: number; more: number }>();

  constructor(
    private readonly write: (line: string) => void = (line) => console.warn(line),
    private readonly now: () => number = Date.now,
    private readonly windowMs = REFUSAL_LOG_WINDOW_MS
  ) {}

  /** A refusal of `reason` for `from` (an IP address or a peer id). */
  refused(from: string, reason: RefusalReason): void {
    const key = `${reason} ${from}`;
    const t = this.now();
    const seen = this.last.get(key);
    if (seen !== undefined && t - seen.at < this.windowMs) {
      seen.more++;
      return;
    }
    const more = seen !== undefined && seen.more > 0 ? ` (and ${seen.more} more since the last such line)` : '';
    this.remember(key, t);
    const [what, why] = WHY[reason];
    this.write(`relay: refused a ${what} from ${from}: ${why}${more}`);
  }

  /** `ip` turned abusive: its connections and reservations are refused until its score decays. */
  abusive(ip: string): void {
    this.write(
      `relay: IP ${ip} is abusive (refusals scored over the threshold): its peers are graylisted, ` +
        `its reservations revoked, its new connections refused until the score halves below the threshold ` +
        `(half-life ${ABUSE_LIMITS.halfLifeMs / 1000} s)`
    );
  }

  private remember(key: string, at: number): void {
    this.last.delete(key);
    if (this.last.size >= MAX_KEYS) this.last.delete(this.last.keys().next().value!);
    this.last.set(key, { at, more: 0 });
  }
}
