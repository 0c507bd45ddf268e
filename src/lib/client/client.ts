// The typed client the UI (and window.tabula) uses, in every tab. The tab holding the profile's
// leader lock runs the node (its worker, whose RTC bridge it hosts); every other tab reaches that
// node through the tab broker. Either way the API, identity, records and events are the same.
import type { NodeEvent, NodeMethod, NodePhase, NodeStatus, RemoteApi } from '../worker/messages.js';
import { createTabBroker, type TabRole } from './tab-broker.js';
import { LEADER_LOCK_NAME, TAB_CHANNEL_NAME } from './tab-protocol.js';
import { startWorkerNode } from './worker-node.js';
import { maxRelaysFromQuery } from '../worker/relay-list.js';
import { roleFromQuery } from '../worker/replica-role.js';
import { buildNetworkPin, networkPin, networkScopedName } from './network-pin.js';
import { requestPersistence, storageInfo, type StorageInfo } from './storage.js';
import type { RpcTraceSummary } from './rpc-trace.js';
import { checkedPut } from './write-check.js';
import { validateKey } from '../core/state/record-value.js';

export { RemoteError } from './worker-node.js';
export { ClientClosedError, LeaderUnavailableError, type TabRole } from './tab-broker.js';
export type { StorageInfo } from './storage.js';
export type { RpcTraceSummary } from './rpc-trace.js';

export interface TabulaClient extends RemoteApi {
  /** The last status the node pushed, or undefined before the first. */
  readonly lastStatus: NodeStatus | undefined;
  readonly phase: NodePhase;
  /** `leader` while this tab runs the profile's node, `follower` while another tab does. */
  readonly role: TabRole;
  /** Every node event (status, records, conflicts, phase); returns an unsubscribe function. */
  subscribe(fn: (event: NodeEvent) => void): () => void;
  /** Called if the node fails to start (for example a corrupt store or no storage quota). */
  onFatal(fn: (error: Error) => void): () => void;
  /**
   * Later calls fail with ClientClosedError. In the leader tab it also stops the node cleanly (its
   * store and connections) and hands the profile to the next tab, which re-runs unanswered calls.
   */
  close(): void;
  /** This profile's storage use and quota (navigator.storage in this page). */
  storage(): Promise<StorageInfo>;
  /** Asks the browser to make this profile's storage persistent; resolves to whether it is. */
  persistStorage(): Promise<boolean>;
  /**
   * While this tab runs the node: per method, percentiles (ms) of where its last calls' time went
   * between this page and the node's worker (client/rpc-trace.ts); undefined in a follower tab.
   */
  rpcTrace(): RpcTraceSummary | undefined;
}

export interface ClientOptions {
  /** ICE servers for WebRTC. Default none: host candidates only, no outside server contacted. */
  iceServers?: RTCIceServer[];
  origin?: string;
  /** Relays used at once; default from the page's `?relays=N`, else 2. 1 pins the page to its site's relay. */
  maxRelays?: number;
  /**
   * The network id (64 hex) to join; default the page's `?network=`, else the build's
   * VITE_TABULA_NETWORK, else the bundled network. The node refuses a site serving another one.
   */
  network?: string;
  /**
   * Join a new (empty) light node from a verified state snapshot instead of replaying every entry;
   * default true, unless the page's address says `?join=0`. A full replica (`?role=full`) never joins.
   */
  join?: boolean;
  /** For tests: an already-created worker, used if this tab becomes the leader. */
  worker?: Worker;
}

/**
 * Joins this profile's tabs: runs the node here if no other tab does, else becomes its client.
 * Calls made while the leading tab changes wait (up to TAKEOVER_TIMEOUT_MS) and are re-sent to
 * the new leader; see tab-broker.ts for how re-sent writes behave.
 */
export function createClient(options: ClientOptions = {}): TabulaClient {
  const maxRelays = options.maxRelays ?? maxRelaysFromQuery(location.search);
  const network = options.network ?? networkPin(location.search, buildNetworkPin());
  const config = {
    origin: options.origin ?? location.origin,
    iceServers: options.iceServers ?? [],
    ...(maxRelays === undefined ? {} : { maxRelays }),
    ...roleFromQuery(location.search),
    ...(network === undefined ? {} : { network }),
    join: options.join ?? joinFromQuery(location.search)
  };
  const broker = createTabBroker({
    // Tabs of one network share one node; another network's tabs run their own.
    channel: new BroadcastChannel(networkScopedName(TAB_CHANNEL_NAME, network)),
    lockName: networkScopedName(LEADER_LOCK_NAME, network),
    locks: typeof navigator.locks === 'undefined' ? undefined : navigator.locks,
    startNode: () => startWorkerNode({ config, ...(options.worker ? { worker: options.worker } : {}) })
  });
  const call =
    <M extends NodeMethod>(method: M) =>
    (...args: Parameters<RemoteApi[M]>) =>
      broker.call(method, args) as ReturnType<RemoteApi[M]>;
  // Writes are checked here first, as the node checks them (write-check.ts): a bad one fails
  // with the node's typed error before it is posted.
  const put: RemoteApi['put'] = async (key, value, opts) => {
    const checked = checkedPut(key, value);
    return call('put')(checked.key, checked.value, opts);
  };
  const del: RemoteApi['delete'] = async (key, opts) => call('delete')(validateKey(key), opts);

  return {
    get lastStatus() {
      return broker.lastStatus;
    },
    get phase() {
      return broker.phase;
    },
    get role() {
      return broker.role;
    },
    status: call('status'),
    echo: call('echo'),
    put,
    delete: del,
    get: call('get'),
    records: call('records'),
    conflicts: call('conflicts'),
    removals: call('removals'),
    feeds: call('feeds'),
    history: call('history'),
    exportSnapshot: call('exportSnapshot'),
    importSnapshot: call('importSnapshot'),
    network: call('network'),
    storage: () => storageInfo(),
    persistStorage: () => requestPersistence(),
    rpcTrace: () => broker.rpcTrace(),
    subscribe: (fn) => broker.subscribe(fn),
    onFatal: (fn) => broker.onFatal(fn),
    close: () => broker.close()
  };
}

/** The verified join is on unless the page's address says `?join=0` (or `false`). */
function joinFromQuery(search: string): boolean {
  const v = new URLSearchParams(search).get('join');
  return v !== '0' && v !== 'false';
}
