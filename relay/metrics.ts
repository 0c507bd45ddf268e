// The relay's Prometheus metrics (prom-client, text format 0.0.4). Every value is read from the
// running relay when scraped: gauges from its current state, counters from its monotonic
// counters (gater, rate limiter, telemetry), so nothing here has to be updated by the code paths.
import { Counter, Gauge, Registry } from 'prom-client';

/** What /metrics reads from the running relay. */
export interface RelayMetricsSource {
  uptimeSeconds(): number;
  connections(): number;
  peers(): number;
  reservations(): number;
  topicSubscribers(): { topic: string; count: number }[];
  /** Connected peers whose gossipsub score is below the graylist threshold (their RPCs are dropped). */
  rejectedPeers(): number;
  /** Nodes listed by /api/network. */
  networkNodes(): number;
  refusedConnections(): number;
  refusedReservations(): number;
  rateLimitedMessages(): number;
  oversizedFrames(): number;
  /** Gossip entries refused by validation and not forwarded. */
  rejectedMessages(): number;
  /** Bans imposed since start (relay/peer-bans.ts); 0 when absent. */
  peerBans?(): number;
  /** Peers banned now; 0 when absent. */
  bannedPeers?(): number;
  /** Connections refused because the peer was banned; 0 when absent. */
  bannedConnectionsRefused?(): number;
  beaconsSeen(): number;
  beaconsRejected(): number;
  entriesRelayed(): number;
  /** Entries Ignored for not linking to what the relay knows (gap or broken chain); 0 when absent. */
  unlinkedEntries?(): number;
  /** Fetches of a gap entry's missing predecessor (relay/link-fetch.ts): started, and links learnt; absent on an archive. */
  linkFetches?(): { started: number; learnt: number };
  /** Per-IP abuse score (relay/ip-abuse.ts); absent: no such metrics. */
  abuse?(): {
    /** IPs abusive now. */
    abusiveIps: number;
    /** Connected peers from abusive IPs (all scored below the graylist). */
    abusivePeers: number;
    /** Connections and reservations refused because their IP was abusive, since start. */
    refusedAbusive: number;
    /** Refusals scored, per kind, since start. */
    events: Record<string, number>;
  };
  /** Archive replica gauges (relay --archive); absent otherwise. */
  archive?: () => {
    entries: number;
    feeds: number;
    bytesOnDisk: number;
    pending: number;
    missing: number;
    /** Sync peers refused (another genesis or protocol version), since start. */
    syncRejectedPeers?: number;
    /** Sync streams closed for another network, since start. */
    syncWrongNetworkDisconnects?: number;
    /** Operator checkpoints (relay/archive/checkpoints.ts); absent: no checkpoint metrics. */
    checkpoints?: {
      role: string;
      signed: number;
      failures: number;
      latest: { entries: number; time: number } | null;
    };
  };
}

export interface RelayMetrics {
  /** The exposition text. */
  render(): Promise<string>;
  /** Its content type, `text/plain; version=0.0.4; charset=utf-8`. */
  contentType: string;
}

type Read = () => number;

export function createRelayMetrics(src: RelayMetricsSource): RelayMetrics {
  const registry = new Registry();
  const registers = [registry];
  const gauge = (name: string, help: string, read: Read): void =>
    void new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      }
    });
  const counter = (name: string, help: string, read: Read): void =>
    void new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(Math.max(0, read()));
      }
    });

  gauge('tabula_relay_up', 'The relay is running.', () => 1);
  gauge('tabula_relay_uptime_seconds', 'Seconds since the relay started.', src.uptimeSeconds);
  gauge('tabula_relay_connections', 'Open libp2p connections.', src.connections);
  gauge('tabula_relay_peers', 'Distinct connected peers.', src.peers);
  gauge('tabula_relay_reservations', 'Active circuit relay v2 reservations.', src.reservations);
  gauge('tabula_relay_rejected_peers', 'Connected peers graylisted by gossipsub scoring.', src.rejectedPeers);
  gauge('tabula_relay_network_nodes', 'Nodes listed by /api/network (beacon within the expiry).', src.networkNodes);
  new Gauge({
    name: 'tabula_relay_topic_subscribers',
    help: 'Peers subscribed to a pubsub topic.',
    labelNames: ['topic'] as const,
    registers,
    collect() {
      this.reset();
      for (const { topic, count } of src.topicSubscribers()) this.set({ topic }, count);
    }
  });
  counter(
    'tabula_relay_refused_connections_total',
    'Inbound libp2p connections refused by the per-IP cap.',
    src.refusedConnections
  );
  counter(
    'tabula_relay_refused_reservations_total',
    'Reservations refused by the per-IP cap.',
    src.refusedReservations
  );
  counter(
    'tabula_relay_rate_limited_messages_total',
    'Gossip messages dropped by the per-peer rate limit.',
    src.rateLimitedMessages
  );
  counter(
    'tabula_relay_oversized_frames_total',
    'Peers disconnected for a gossip frame over the cap.',
    src.oversizedFrames
  );
  counter(
    'tabula_relay_rejected_messages_total',
    'Gossip entries refused by validation (size, encoding, network, signature, payload) and not forwarded.',
    src.rejectedMessages
  );
  counter(
    'tabula_relay_peer_bans_total',
    'Peers banned for invalid gossip (bad signature, wrong network, oversized, malformed, forged announcement).',
    () => src.peerBans?.() ?? 0
  );
  gauge(
    'tabula_relay_banned_peers',
    'Peers banned now (disconnected, connections refused).',
    () => src.bannedPeers?.() ?? 0
  );
  counter(
    'tabula_relay_banned_connections_refused_total',
    'Connections refused because the peer was banned.',
    () => src.bannedConnectionsRefused?.() ?? 0
  );
  counter('tabula_relay_beacons_seen_total', 'Telemetry beacons verified.', src.beaconsSeen);
  counter('tabula_relay_beacons_rejected_total', 'Telemetry beacons that failed verification.', src.beaconsRejected);
  counter(
    'tabula_relay_entries_relayed_total',
    'Entries accepted for forwarding on the entries topic (a batch message counts its entries).',
    src.entriesRelayed
  );
  counter(
    'tabula_relay_unlinked_entries_total',
    'Messages (an entry, or a batch judged by its first entry) of validly signed entries not forwarded because they do not link to what the relay knows (unknown predecessor or another prev).',
    () => src.unlinkedEntries?.() ?? 0
  );
  const linkFetches = src.linkFetches;
  if (linkFetches) {
    counter(
      'tabula_relay_link_fetches_total',
      "Fetches of a gap entry's missing predecessor from a peer serving sync (plain relay).",
      () => linkFetches().started
    );
    counter(
      'tabula_relay_link_fetches_learnt_total',
      'Fetched predecessors that were valid and hashed to the entry prev (the link was learnt).',
      () => linkFetches().learnt
    );
  }

  const abuse = src.abuse;
  if (abuse) {
    gauge('tabula_relay_abusive_ips', 'IPs whose abuse score is over the threshold now.', () => abuse().abusiveIps);
    gauge(
      'tabula_relay_abusive_peers',
      'Connected peers from abusive IPs (scored below the gossipsub graylist).',
      () => abuse().abusivePeers
    );
    counter(
      'tabula_relay_abusive_refused_total',
      'Connections and reservations refused because their IP was abusive.',
      () => abuse().refusedAbusive
    );
    new Counter({
      name: 'tabula_relay_abuse_events_total',
      help: 'Refusals scored against their IP: connection (per-IP rate or cap), reservation (per-IP cap), gossip (over the rate), ban.',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        this.reset();
        for (const [kind, n] of Object.entries(abuse().events)) this.inc({ kind }, n);
      }
    });
  }

  const archive = src.archive;
  if (archive) {
    gauge('tabula_archive_entries', 'Entries stored by the archive replica.', () => archive().entries);
    gauge('tabula_archive_feeds', 'Authors with a feed in the archive replica.', () => archive().feeds);
    gauge('tabula_archive_bytes', 'Bytes on disk of the archive database and its WAL.', () => archive().bytesOnDisk);
    gauge('tabula_archive_pending_entries', 'Entries held for a missing predecessor.', () => archive().pending);
    gauge('tabula_archive_missing_entries', 'Entries the archive knows it misses.', () => archive().missing);
    counter(
      'tabula_archive_sync_rejected_peers_total',
      'Sync peers the archive refused: another genesis (network) or sync protocol version.',
      () => archive().syncRejectedPeers ?? 0
    );
    counter(
      'tabula_archive_sync_wrong_network_disconnects_total',
      'Sync streams the archive closed because the peer belongs to another network.',
      () => archive().syncWrongNetworkDisconnects ?? 0
    );
    const cp = () => archive().checkpoints;
    gauge(
      'tabula_archive_checkpoint_operator',
      'The archive holds a genesis operator key and signs operator checkpoints (1), or not (0).',
      () => (cp()?.role === 'operator' ? 1 : 0)
    );
    counter(
      'tabula_archive_checkpoints_signed_total',
      'Operator checkpoints signed (one per distinct state served).',
      () => cp()?.signed ?? 0
    );
    counter(
      'tabula_archive_checkpoint_failures_total',
      'Periodic checkpoint rounds that failed.',
      () => cp()?.failures ?? 0
    );
    gauge(
      'tabula_archive_checkpoint_entries',
      'Entries covered by the newest operator checkpoint (0: none yet).',
      () => cp()?.latest?.entries ?? 0
    );
    gauge(
      'tabula_archive_checkpoint_timestamp_seconds',
      'Time of the newest operator checkpoint, seconds since the epoch (0: none yet).',
      () => (cp()?.latest?.time ?? 0) / 1000
    );
  }

  return { render: () => registry.metrics(), contentType: registry.contentType };
}
