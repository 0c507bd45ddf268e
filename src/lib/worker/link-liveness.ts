// When a connection counts as dead: after LINK_PING_FAILURES_TO_CLOSE pings in a row went
// unanswered (each given LINK_PING_TIMEOUT_MS). It replaces libp2p's connection monitor, which
// aborts a connection on ONE late ping (its timeout adapts down to 5 s): under load a busy tab
// or Node peer answers late, and the monitor's ping stream also collides with the RTT probe's
// (the ping protocol allows one outbound stream per connection, and a refused stream counted as
// a failed ping), so direct links were torn down ~15 s into S10's load. A link to a peer that
// is really gone still closes: WebRTC on its ICE state, WebSockets on the socket, and a silent
// one here after about LINK_PING_FAILURES_TO_CLOSE × (probe interval + timeout).

/** One ping waits this long for its answer, ms. */
export const LINK_PING_TIMEOUT_MS = 10_000;
/** Pings in a row left unanswered before the connection is aborted. */
export const LINK_PING_FAILURES_TO_CLOSE = 3;
/** Errors that say nothing about the peer: our own ping streams overlapping (one at a time per connection). */
const NOT_THE_PEERS_FAULT = new Set(['TooManyOutboundProtocolStreamsError']);

/** Counts consecutive failed pings per peer; bounded by the peers that have connections. */
export class LinkLiveness {
  readonly #failures = new Map<string, number>();

  constructor(private readonly failuresToClose = LINK_PING_FAILURES_TO_CLOSE) {}

  /** The peer answered: its count starts again. */
  answered(peer: string): void {
    this.#failures.delete(peer);
  }

  /** A ping failed with `err`; true when the connection should now be aborted. */
  failed(peer: string, err: unknown): boolean {
    if (err instanceof Error && NOT_THE_PEERS_FAULT.has(err.name)) return false;
    const n = (this.#failures.get(peer) ?? 0) + 1;
    if (n >= this.failuresToClose) {
      this.#failures.delete(peer);
      return true;
    }
    this.#failures.set(peer, n);
    return false;
  }

  /** Forgets peers that are no longer connected. */
  keepOnly(peers: Set<string>): void {
    for (const p of this.#failures.keys()) if (!peers.has(p)) this.#failures.delete(p);
  }
}
