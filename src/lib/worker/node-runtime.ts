// The node as it runs in the worker: ledger (Dexie store, Yjs state) and network (libp2p) from
// one Ed25519 identity, behind NodeApi.
import { privateKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { concatBytes, fromHex, toHex } from '../core/bytes.js';
import { checkGenesisIs } from '../core/genesis-document.js';
import { expectedNetworkId, fetchGenesis, settleGenesis } from './genesis-fetch.js';
import { noteStoreReset, recordRestore } from './store-reset.js';
import { StorageClosedError } from '../core/errors.js';
import { OWN_FEED_HOLD_MS } from '../core/constants.js';
import { watchOwnFeed } from './own-feed.js';
import { explainWriteError } from './write-errors.js';
import { OwnCopyKeeper } from './own-copy.js';
import type { CopyFile } from '../core/own-copy.js';
import { openOpfsFile, ownCopyFileName } from '../platform/opfs-file.js';
import { Ledger, type WriteOptions } from '../core/ledger.js';
import { DexieLedgerStore } from '../platform/dexie-store.js';
import { ledgerDbName } from '../platform/dexie-schema.js';
import type {
  ApiHandlers,
  InitConfig,
  GossipInfo,
  NodeEvent,
  NodeStatus,
  WriteCallOptions,
  WriteReceipt
} from './messages.js';
import { startNetwork, type RunningNetwork } from './network.js';
import { metaBanStore } from '../core/peers/ban-persist.js';
import { startEntryGossip, type GossipStats } from './entry-gossip.js';
import { GossipOutbox, type OutboxStats } from './gossip-outbox.js';
import { networkNames } from '../core/topics.js';
import { exportSnapshotFile, importSnapshotFile } from './snapshot-files.js';
import type { HashedEntry, IdentityKeys } from '../core/types.js';
import type { LedgerStore } from '../core/storage.js';
import { emptyNetworkView, startTelemetry, type Telemetry } from './telemetry.js';
import { SyncEngine } from '../core/sync/engine.js';
import { FeedHistory, ledgerHistorySource } from '../core/history/index.js';
import { ledgerReplica } from '../core/sync/ledger-replica.js';
import { SYNC_PROTOCOL_ID } from '../core/sync/constants.js';
import { shortNetworkId } from '../core/topics.js';
import { SyncDriver } from './sync-driver.js';
import type { SyncDriverStats } from './messages.js';
import { ClockSync } from './clock-sync.js';
import { LagMonitor } from './lag-monitor.js';
import { clockStatus, originTimeOf, withClockAndLag } from './clock-status.js';
import { TIME_PROTOCOL_ID } from '../core/clock/constants.js';
import type { PeerGuard } from './peer-guard.js';
import { JoinDriver, joinWanted } from './join-driver.js';
import { JOIN_PROTOCOL_ID } from '../core/join/constants.js';
import { DigestSchedule } from './status-digest.js';
import { RecordsEvents } from './records-events.js';

const STATUS_THROTTLE_MS = 100;
/**
 * The state digest in pushed statuses is recomputed at most this often, ms: it re-encodes the
 * whole state, and recomputing it on every 100 ms push while writes flow took 36% of the worker's
 * CPU (bench/browser profile of window.tabula.put). See status-digest.ts.
 */
const STATUS_DIGEST_MS = 2_000;
/**
 * ...and at most once per this many times its own cost: it is O(state), and with thousands of
 * entries one took ~0.5 s, so every 2 s it was a quarter of the worker's CPU under S10's load.
 */
const STATUS_DIGEST_COST_RATIO = 20;
/** ...once no entry was appended for this long, ms (never inline in a burst of writes)... */
const STATUS_DIGEST_QUIET_MS = 1_000;
/** ...or once the pushed one is this old, ms, while appends never stop. */
const STATUS_DIGEST_MAX_STALE_MS = 15_000;
/** `records` events go at most once per this window, ms, each with every change since the last (records-events.ts). */
const RECORDS_EVENT_MS = 50;
const NETWORK_RETRY_MAX_MS = 30_000;

/** Where the node keeps its ledger; the worker uses the defaults (Node test harnesses swap them). */
export interface NodePlatform {
  /** Opens the ledger store named `name`; default Dexie (IndexedDB). */
  openStore?: (name: string) => Promise<LedgerStore>;
  /** Opens the own copy's file named `name` (core/own-copy.ts); default OPFS (platform/opfs-file.ts). */
  openOwnCopyFile?: (name: string) => Promise<CopyFile>;
}

export interface RunningNode {
  api: ApiHandlers;
  stop(): Promise<void>;
}

/** The gossip counters a status carries (the per-peer map stays in the worker). */
function gossipInfo(stats: GossipStats, outbox: OutboxStats): GossipInfo {
  const { rejectedByPeer: _perPeer, published: _unused, ...heard } = stats;
  return { ...heard, outbox };
}

/** The write options of a call, as the Ledger takes them: only a string tag and a boolean retry. */
function writeOptions(opts: WriteCallOptions | undefined): WriteOptions {
  if (typeof opts !== 'object' || opts === null) return {};
  const { tag, retry } = opts;
  return { ...(typeof tag === 'string' ? { tag } : {}), ...(retry === true ? { retry } : {}) };
}

function rethrowExplained(err: unknown): never {
  throw explainWriteError(err);
}

function receipt(h: HashedEntry): WriteReceipt {
  return { author: toHex(h.entry.author), seq: h.entry.seq, hash: toHex(h.hash) };
}

export async function startNode(
  config: InitConfig,
  emit: (ev: NodeEvent) => void,
  platform: NodePlatform = {}
): Promise<RunningNode> {
  // status().startedAt until the network has started (then the network's own start).
  const nodeStartedAt = Date.now();
  // The network this page was opened for; a site serving another one is refused before any storage.
  const networkIdHex = expectedNetworkId(config.network);
  const served = await fetchGenesis(config.origin);
  if (served !== undefined) checkGenesisIs(served, networkIdHex);
  const openStore = platform.openStore ?? ((name: string) => DexieLedgerStore.open({ name }));
  const store = await openStore(ledgerDbName(networkIdHex));
  // First, before anything can fail: the browser says a loss only on the open that found it.
  const reported = store.dataLoss != null;
  let storeReset = await noteStoreReset(store, Date.now()).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  const { genesis } = await settleGenesis(networkIdHex, served, store).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  // A second copy of the identity and own feed outside the store: the browser may discard a
  // corrupt store whole (README "Reliability", S1); this device's latest writes may be nowhere else.
  const openCopy = platform.openOwnCopyFile ?? openOpfsFile;
  const ownCopy = await OwnCopyKeeper.open(() => openCopy(ownCopyFileName(networkIdHex)), {
    networkId: fromHex(networkIdHex),
    maxEntryBytes: genesis.maxEntryBytes
  });
  const opened = async (): Promise<{ keys: IdentityKeys; ledger: Ledger }> => {
    const keys = await ownCopy.settleIdentity(store);
    const ledger = await Ledger.open({
      store,
      genesis,
      keys,
      role: config.role ?? 'light',
      afterLocalStored: (entries) => ownCopy.mirror(entries),
      ownSignedUpTo: () => ownCopy.signedUpTo(),
      ...(config.budgetMiB === undefined ? {} : { budgetBytes: config.budgetMiB * 1024 * 1024 })
    });
    await ownCopy.reconcile(ledger);
    storeReset = await recordRestore(store, { reset: storeReset, reported }, ownCopy.status().restored, Date.now());
    return { keys, ledger };
  };
  const { keys, ledger } = await opened().catch(async (err: unknown) => {
    ownCopy.close();
    await store.close();
    throw err;
  });
  // A copy locked at start (the last leader's handle at a takeover) is opened again later.
  ownCopy.retryOpen(ledger);
  // A store last used long ago may be an older copy: the first local write waits to learn the own
  // feed's head from a peer (bounded; core/own-feed-check.ts).
  const ownFeed = await watchOwnFeed(ledger).catch(async (err: unknown) => {
    try {
      await ledger.close(); // closes the store
    } finally {
      ownCopy.close();
    }
    throw err;
  });
  // The PeerId is derived from the author key, so the author of an entry is the peer that signs the transport.
  const privateKey = privateKeyFromRaw(concatBytes(keys.seed, keys.publicKey));
  const peerId = peerIdFromPrivateKey(privateKey).toString();

  // Status is asked for while the network is still starting.
  const live: {
    network?: RunningNetwork;
    networkError: string | null;
    sync?: SyncDriver;
    clock?: ClockSync;
    guard?: PeerGuard;
  } = {
    networkError: null
  };
  // Catch-up runs from the start: its Merkle tree follows the ledger even while offline, and the
  // driver (streams over direct connections) joins once the network is up.
  const engine = new SyncEngine({
    replica: ledgerReplica(ledger),
    send: (peer, bytes) => live.sync?.send(peer, bytes),
    now: () => Date.now(),
    randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
    onPeerRejected: (peer, err) => live.sync?.onPeerRejected(peer, err),
    onCompared: (peer, diffs) => {
      lag.compared(peer, diffs);
      ownFeed.check.compared(diffs);
    },
    compareAtOnce: () => ownFeed.check.state === 'holding',
    onPeerOutcome: (peer, outcome) => live.guard?.report(peer, outcome),
    peerScore: (peer) => live.guard?.book.score(peer) ?? 0
  });
  const lag = new LagMonitor(engine);
  lag.start();
  // Feed history: what a light replica pruned is fetched back from peers on demand, verified.
  const history = new FeedHistory({
    source: ledgerHistorySource(ledger),
    fetch: (author, from, to, o) => engine.requestRange(author, from, to, o),
    onInvalid: (peer, err) => engine.reportInvalid(peer, err)
  });
  // Verified join (default for a light replica with an empty ledger; `?join=0` opts out): sync and
  // gossip ingest wait on join.gate.
  const join = new JoinDriver({
    ledger,
    keys,
    protocol: JOIN_PROTOCOL_ID(shortNetworkId(networkIdHex)),
    enabled: joinWanted({ role: ledger.role, join: config.join, ownSignedUpTo: ownCopy.signedUpTo() }),
    onChange: () => pushStatus(),
    isRelay: (peer) => live.network?.status().peers.some((p) => p.id === peer && p.relay) === true
  });
  let gossip: ReturnType<typeof startEntryGossip> | undefined;
  const noDriver: SyncDriverStats = {
    openStreams: 0,
    streamsOpened: 0,
    streamFailures: 0,
    slowPeerDrops: 0,
    wrongNetworkDisconnects: 0
  };
  const digest = new DigestSchedule({
    everyMs: STATUS_DIGEST_MS,
    costRatio: STATUS_DIGEST_COST_RATIO,
    quietMs: STATUS_DIGEST_QUIET_MS,
    maxStaleMs: STATUS_DIGEST_MAX_STALE_MS,
    refresh: () => emit({ type: 'status', status: status() })
  });
  /** `throttled` (pushes): the last digest computed, refreshed by `digest`'s schedule, never here. */
  const status = (kind: 'fresh' | 'throttled' = 'fresh'): NodeStatus => {
    const fresh = kind === 'fresh';
    const costFrom = performance.now();
    const stats = ledger.stats({ digest: fresh });
    if (fresh) digest.computed(performance.now() - costFrom);
    else digest.pushedStale();
    const net = live.network?.status();
    return {
      peerId,
      online: net?.online ?? false,
      peers: withClockAndLag(net?.peers ?? [], live.clock, lag),
      bans: net?.bans ?? [],
      relays: net?.relays ?? [],
      addrs: net?.addrs ?? [],
      startedAt: net?.startedAt ?? nodeStartedAt,
      timings: net?.timings ?? { relayMs: null, reservationMs: null, firstWebrtcMs: null, lastDialMs: null },
      networkId: networkIdHex,
      networkError: live.networkError,
      author: ledger.author,
      // A light replica prunes behind its compaction within its budget (core/light-budget.ts).
      role: ledger.role,
      ledger: {
        ...stats,
        stateDigestStaleSince: digest.staleFrom ?? null, // null after a fresh one (computed() above)
        conflicts: ledger.conflictCount(),
        records: ledger.recordCount()
      },
      sync: { ...engine.status(), ...(live.sync?.stats ?? noDriver) },
      ...(gossip === undefined ? {} : { gossip: gossipInfo(gossip.stats, outbox.stats) }),
      clock: clockStatus(live.clock, lag, telemetry?.view().latency),
      join: join.status(),
      storeReset,
      ownFeedCheck: ownFeed.check.state,
      ownCopy: ownCopy.status()
    };
  };
  // Coalesced: a snapshot import appends thousands of entries, the page needs one status.
  let statusTimer: ReturnType<typeof setTimeout> | undefined;
  const pushStatus = (): void => {
    statusTimer ??= setTimeout(() => {
      statusTimer = undefined;
      emit({ type: 'status', status: status('throttled') });
    }, STATUS_THROTTLE_MS);
  };

  // The page shows the check while it holds: say when it ends.
  void ownFeed.check.ready.then(() => pushStatus());
  /** Resolves when a local write may be signed; rejects when the node stopped while it waited. */
  const ownFeedChecked = async (): Promise<void> => {
    await ownFeed.check.ready;
    if (ownFeed.check.state === 'closed')
      throw new StorageClosedError('the node stopped while the write waited for the own-feed check');
    // Restored own entries still waiting for entries from peers: a write waits a while for them,
    // then the ledger refuses it (OwnFeedBehindError) rather than sign one of their seqs again.
    const ownSeq = () => ledger.head(ledger.author)?.seq ?? 0;
    for (let polls = 0, until = Date.now() + OWN_FEED_HOLD_MS; ownSeq() < ownCopy.signedUpTo(); polls++) {
      // What the pending buffer dropped meanwhile (its cap, its age limit) is taken from the copy again.
      if (polls % 10 === 0) await ownCopy.resume(ledger);
      if (ownSeq() >= ownCopy.signedUpTo() || Date.now() >= until) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const recordsEvents = new RecordsEvents(RECORDS_EVENT_MS, (changes) => emit({ type: 'records', changes }));
  const unsubscribe = [
    // Any state change makes the pushed digest stale (voids and an installed join append nothing).
    ledger.subscribe((changes) => {
      digest.appended();
      recordsEvents.changed(changes);
    }),
    ledger.subscribeConflicts((conflicts) => {
      emit({ type: 'conflicts', conflicts });
      pushStatus();
    }),
    ledger.onAppend(() => {
      digest.appended();
      pushStatus();
    }),
    // Forks append nothing, but the dashboard must show them at once.
    ledger.onFork(() => {
      digest.appended();
      pushStatus();
    })
  ];

  // The ledger works offline: the network joins in the background whenever the site answers,
  // and a failed start (not just an unreachable site) is retried with backoff.
  const abort = new AbortController();
  // Local entries, held from the start until a peer subscribes (written before gossip runs, or
  // before a relay's subscription arrived): a relay that misses a feed's start must fetch the
  // link before it forwards that feed again (relay/link-fetch.ts), so every entry is published.
  // Batches up to the network's entry size: what every receiver accepts as one message.
  const outbox = new GossipOutbox(ledger, { maxMessageBytes: ledger.genesis.maxEntryBytes });
  let telemetry: Telemetry | undefined;
  void (async () => {
    for (let attempt = 0; !abort.signal.aborted; attempt++) {
      try {
        const network = await startNetwork({
          config,
          privateKey,
          networkIdHex,
          onChange: pushStatus,
          signal: abort.signal,
          // Bans survive a reload: kept in this node's IndexedDB (meta table), bounded.
          banStore: metaBanStore(ledger.store),
          onRelayList: (err) => {
            const why = err instanceof Error ? err.message : String(err);
            const text =
              err === null ? null : `the site's relay list (/api/relays) did not answer: ${why}`.slice(0, 300);
            if (live.networkError === text) return;
            live.networkError = text;
            pushStatus();
          },
          setup: async (node, guard) => {
            await live.sync?.stop();
            live.guard = guard;
            live.sync = new SyncDriver({
              node,
              engine,
              protocol: SYNC_PROTOCOL_ID(shortNetworkId(networkIdHex)),
              rttOf: (peer) => live.network?.rttOf(peer),
              guard
            });
            const sync = live.sync;
            if (join.waiting)
              void join.gate
                .then(() => (live.sync === sync && !abort.signal.aborted ? sync.start() : undefined))
                .catch((err: unknown) => {
                  live.networkError = `sync did not start after the join: ${String(err)}`;
                  pushStatus();
                });
            else await sync.start();
            await live.clock?.stop();
            live.clock = new ClockSync({
              node,
              protocol: TIME_PROTOCOL_ID(shortNetworkId(networkIdHex)),
              onUpdate: pushStatus
            });
            await live.clock.start();
            await join.setup(node, guard);
          }
        });
        if (abort.signal.aborted) return void network.stop();
        live.network = network;
        live.networkError = null;
        const startGossip = (): void => {
          if (abort.signal.aborted) return;
          gossip = startEntryGossip(
            network.node,
            ledger,
            networkNames(networkIdHex).entriesTopic,
            genesis.maxEntryBytes,
            {},
            { onPending: () => live.sync?.pendingSeen(), publishLocal: false, ...network.guard.gossipBlame() }
          );
          outbox.attach(network.node.services.pubsub, networkNames(networkIdHex).entriesTopic);
        };
        if (join.waiting) void join.gate.then(startGossip);
        else startGossip();
        telemetry = startTelemetry({
          pubsub: network.node.services.pubsub,
          ledger,
          seed: keys.seed,
          networkIdHex,
          topic: networkNames(networkIdHex).telemetryTopic,
          role: () => ledger.role,
          peerCount: () => network.status().peers.filter((p) => !p.relay).length,
          // Entries this node knows it misses (from sync), and how long the oldest gap is open.
          lag: () => lag.self(),
          originTime: (entry) => originTimeOf(entry, live.clock)
        });
        pushStatus();
        return;
      } catch (err) {
        if (abort.signal.aborted) return;
        live.networkError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        // Released only when the browser itself says it is offline: a start that fails while a
        // link comes up (a relay not reachable yet) leaves the check to its timer.
        if ((globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false) ownFeed.check.offline();
        pushStatus();
        await new Promise((r) => setTimeout(r, Math.min(NETWORK_RETRY_MAX_MS, 1000 * 2 ** attempt)));
      }
    }
  })();
  pushStatus();

  return {
    api: {
      status: () => status(),
      echo: async (peerId, data) => {
        if (live.network === undefined) throw new Error('not connected to the network yet');
        return live.network.echo(peerId, data);
      },
      put: async (key, value, opts) => {
        await ownFeedChecked();
        return receipt(await ledger.put(key, value, writeOptions(opts)).catch(rethrowExplained));
      },
      delete: async (key, opts) => {
        await ownFeedChecked();
        const h = await ledger.delete(key, writeOptions(opts)).catch(rethrowExplained);
        return h === null ? null : receipt(h);
      },
      get: (key) => ledger.get(key),
      records: (limit) => ledger.records(limit),
      conflicts: () => ledger.conflicts(),
      removals: () => ledger.removals(),
      feeds: () => {
        const forked = new Set(ledger.forks().map((f) => f.author));
        const heads = ledger.heads();
        const withHead = new Set(heads.map((h) => h.author));
        // A forked author with no contiguous head yet (both variants still pending) is listed at seq 0.
        const headless = [...forked].filter((a) => !withHead.has(a)).map((author) => ({ author, seq: 0, hash: '' }));
        // A void feed (forked, PROTOCOL.md §6) is shown at its last applied seq, with where it is void from.
        const shown = heads.map((h) => {
          const v = ledger.voidFrom(h.author);
          return v === undefined ? h : { author: h.author, seq: v - 1, hash: '', voidFrom: v };
        });
        return [...shown, ...headless]
          .map((h) => ({ ...h, forked: forked.has(h.author), local: h.author === ledger.author }))
          .sort((x, y) => Number(y.local) - Number(x.local) || x.author.localeCompare(y.author));
      },
      history: (author, o) => history.page(author, o),
      exportSnapshot: (kind = 'full') => exportSnapshotFile(ledger, kind),
      importSnapshot: (bytes) => {
        join.giveUp(); // an imported snapshot replaces the join: both need an empty ledger
        return importSnapshotFile(ledger, bytes);
      },
      network: () => telemetry?.view() ?? emptyNetworkView(ledger.author)
    },
    async stop() {
      for (const off of unsubscribe) off();
      clearTimeout(statusTimer);
      digest.stop();
      recordsEvents.stop();
      abort.abort();
      outbox.stop();
      gossip?.stop();
      telemetry?.stop();
      await join.stop();
      await live.sync?.stop();
      await live.clock?.stop();
      lag.stop();
      ownFeed.stop();
      engine.close();
      await live.network?.stop();
      await ledger.close();
      ownCopy.close();
    }
  };
}
