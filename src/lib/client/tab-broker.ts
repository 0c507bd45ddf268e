// One node per browser profile, every tab a full client. Every tab queues on one Web Lock; the
// tab holding it (the leader) starts the node and answers the other tabs' calls, which travel
// over a BroadcastChannel tagged with a unique call id, and rebroadcasts the node's events. When
// the leader closes, the lock passes to the next tab in the queue, which starts its own node (the
// worker's own lock keeps two nodes of one identity from ever running at once) and announces
// itself; followers then re-send every call the old leader had not answered.
//
// Re-sending policy: every unanswered call is re-sent to the new leader, writes included, so an
// acknowledged write is never lost and an unacknowledged one is never dropped silently. A write
// is made once: put and delete carry their call id as the write's tag, stored with its entry in
// the same transaction (Ledger WriteOptions), and a re-sent one the old leader had already made
// answers with that entry instead of writing again (before, a re-sent put wrote its value again,
// over a newer write another tab had made meanwhile). importSnapshot reports the merged entries
// as skipped. Calls made while no leader is known wait up to `takeoverTimeoutMs`, then fail with
// LeaderUnavailableError.
import { errorInfo } from '../worker/rtc-bridge-protocol.js';
import type { NodeEvent, NodeMethod, NodePhase, NodeStatus } from '../worker/messages.js';
import { callArgs, LEADER_LOCK_NAME, parseTabMessage, type TabMessage } from './tab-protocol.js';
import { PendingCalls } from './pending-calls.js';
import type { RpcTraceSummary } from './rpc-trace.js';
import { RemoteError, type NodeBackend } from './worker-node.js';

/** How long a call waits while no tab leads (a takeover in progress) before it fails, ms. */
export const TAKEOVER_TIMEOUT_MS = 10_000;
/**
 * How long the leading tab has to take a call sent to it (its page's thread may be blocked: a
 * dialog, a debugger, a long task), ms. Past it the leader refuses the call unrun, and the
 * sender fails it with LeaderUnresponsiveError ACCEPT_GRACE_MS later, unless it was taken.
 */
export const ACCEPT_TIMEOUT_MS = 10_000;
/** Slack for an acceptance posted just before the deadline to arrive, ms. */
export const ACCEPT_GRACE_MS = 1_000;

/** `follower` until this tab holds the leader lock; `closed` after close(). */
export type TabRole = 'follower' | 'leader' | 'closed';

/** No tab ran the profile's node within the takeover bound; the call was not run. */
export class LeaderUnavailableError extends Error {
  readonly code = 'leader-unavailable';
  constructor(ms: number) {
    super(`no tab of this profile ran the node within ${ms} ms`);
    this.name = 'LeaderUnavailableError';
  }
}

/**
 * The leading tab did not take the call within the accept bound (its page is blocked); the call
 * was not run: the leader refuses a call it takes after its deadline.
 */
export class LeaderUnresponsiveError extends Error {
  readonly code = 'leader-unresponsive';
  constructor(ms: number) {
    super(`the tab running the node did not take the call within ${ms} ms; it was not run`);
    this.name = 'LeaderUnresponsiveError';
  }
}

/** The client was closed; its calls fail at once. */
export class ClientClosedError extends Error {
  readonly code = 'client-closed';
  constructor() {
    super('client closed');
    this.name = 'ClientClosedError';
  }
}

/** The parts of BroadcastChannel the broker uses. */
export interface TabChannel {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent) => void): void;
  close(): void;
}

/** The part of the Web Locks API the broker uses (navigator.locks). */
export interface TabLocks {
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: (lock: unknown) => Promise<void>
  ): Promise<unknown>;
}

export interface TabBrokerOptions {
  channel: TabChannel;
  /** navigator.locks; without it (no secure context) the tab leads alone, as before sharing. */
  locks: TabLocks | undefined;
  /** Starts this tab's node once it holds the lock; called at most once. */
  startNode: () => NodeBackend;
  tabId?: string;
  lockName?: string;
  takeoverTimeoutMs?: number;
  /** ACCEPT_TIMEOUT_MS by default. */
  acceptTimeoutMs?: number;
  /** The profile's clock for call deadlines (epoch ms; Date.now by default). */
  now?: () => number;
}

export interface TabBroker {
  readonly tabId: string;
  readonly role: TabRole;
  /** The tab running the node, when known (this tab's id when it leads). */
  readonly leaderId: string | undefined;
  readonly phase: NodePhase;
  readonly lastStatus: NodeStatus | undefined;
  /** While this tab leads: where its node's recent calls spent their time (client/rpc-trace.ts). */
  rpcTrace(): RpcTraceSummary | undefined;
  /** Runs `method` on the profile's node, wherever it runs; errors keep their name and code. */
  call(method: NodeMethod, args: unknown[]): Promise<unknown>;
  /** Every node event; the current phase (and status, if any) is replayed at once. */
  subscribe(fn: (event: NodeEvent) => void): () => void;
  onFatal(fn: (error: Error) => void): () => void;
  /** Rejects pending calls; a leader stops its node and hands the lock to the next tab. */
  close(): void;
}

type Of<T extends TabMessage['t']> = Extract<TabMessage, { t: T }>;

export function createTabBroker(options: TabBrokerOptions): TabBroker {
  const { channel } = options;
  const tabId = options.tabId ?? crypto.randomUUID();
  const takeoverMs = options.takeoverTimeoutMs ?? TAKEOVER_TIMEOUT_MS;
  const acceptMs = options.acceptTimeoutMs ?? ACCEPT_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  const pending = new PendingCalls();
  const serving = new Set<string>();
  const listeners = new Set<(e: NodeEvent) => void>();
  const fatalListeners = new Set<(e: Error) => void>();
  const abort = new AbortController();
  let role: TabRole = 'follower';
  let leaderId: string | undefined;
  /** The known leader takes calls with `accepted` and deadlines (a tab of this build). */
  let leaderAccepts = false;
  let phase: NodePhase = 'starting';
  let last: NodeStatus | undefined;
  let fatal: Error | undefined;
  let backend: NodeBackend | undefined;
  let releaseLock: (() => void) | undefined;
  let nextCall = 1;

  const post = (msg: TabMessage): void => channel.postMessage(msg);

  function emit(event: NodeEvent): void {
    if (event.type === 'phase') {
      if (event.phase === phase) return;
      phase = event.phase;
    }
    if (event.type === 'status') last = event.status;
    for (const fn of listeners) fn(event);
  }

  function fail(error: Error): void {
    if (fatal !== undefined) return;
    fatal = error;
    for (const fn of fatalListeners) fn(error);
    pending.rejectAll(error);
  }

  /**
   * Sends (or runs) call `id` on the current leader, or waits, bounded, for one. `retry`: it may
   * have been sent before (to a leader since gone).
   */
  function dispatch(id: string, method: NodeMethod, given: unknown[], retry: boolean): void {
    const args = callArgs(method, given, id, retry);
    if (role === 'leader' && backend !== undefined) {
      pending.sent(id, tabId);
      backend.call(method, args).then(
        (v) => pending.resolve(id, v),
        (e: unknown) => pending.reject(id, e instanceof Error ? e : new Error(String(e)))
      );
    } else if (leaderId !== undefined) {
      pending.sent(id, leaderId);
      if (leaderAccepts)
        pending.wait(id, acceptMs + ACCEPT_GRACE_MS, () => new LeaderUnresponsiveError(acceptMs), leaderId);
      try {
        post({ t: 'call', id, from: tabId, to: leaderId, method, args, deadline: now() + acceptMs });
      } catch (err) {
        // DataCloneError: the arguments cannot cross to another tab (a function, a DOM node...).
        pending.reject(id, err instanceof Error ? err : new Error(String(err)));
      }
    } else pending.wait(id, takeoverMs, () => new LeaderUnavailableError(takeoverMs));
  }

  /** Re-sends every unanswered call not already with the current leader. */
  function redispatch(): void {
    for (const [id, call] of pending.entries()) {
      if (call.sentTo !== leaderId) dispatch(id, call.method, call.args, true);
    }
  }

  function announce(): void {
    const fatalInfo = fatal === undefined ? {} : { fatal: errorInfo(fatal) };
    const state = { phase, accepts: true as const, ...(last === undefined ? {} : { status: last }) };
    post({ t: 'leader', from: tabId, ...state, ...fatalInfo });
  }

  function becomeLeader(): void {
    role = 'leader';
    leaderId = tabId;
    emit({ type: 'phase', phase: 'starting' });
    const node = options.startNode();
    backend = node;
    node.onEvent((event) => {
      if (role !== 'leader') return;
      emit(event);
      post({ t: 'event', from: tabId, event });
    });
    node.onFatal((error) => {
      if (role !== 'leader') return;
      post({ t: 'fatal', from: tabId, error: errorInfo(error) });
      fail(error);
    });
    announce();
    redispatch();
  }

  /** Leader: runs a follower's call on the node and answers it. */
  function serve(msg: Of<'call'>): void {
    if (backend === undefined || serving.has(msg.id)) return;
    if (msg.deadline !== undefined && now() > msg.deadline) {
      // Taken too late (this page was blocked): its sender has failed it, or is about to, as unrun.
      const error = errorInfo(new LeaderUnresponsiveError(acceptMs));
      post({ t: 'result', id: msg.id, from: tabId, to: msg.from, ok: false, error });
      return;
    }
    post({ t: 'accepted', id: msg.id, from: tabId, to: msg.from });
    serving.add(msg.id);
    const reply = (body: { ok: true; value: unknown } | { ok: false; error: ReturnType<typeof errorInfo> }): void => {
      serving.delete(msg.id);
      // A closed leader stays silent: the follower re-sends the call to the next leader.
      if (role !== 'leader') return;
      const head = { t: 'result' as const, id: msg.id, from: tabId, to: msg.from };
      try {
        post({ ...head, ...body });
      } catch (err) {
        post({ ...head, ok: false, error: errorInfo(err) });
      }
    };
    backend.call(msg.method, msg.args).then(
      (value) => reply({ ok: true, value }),
      (err: unknown) => reply({ ok: false, error: errorInfo(err) })
    );
  }

  /** Follower: a (possibly new) leader announced itself. */
  function follow(msg: Of<'leader'>): void {
    const changed = msg.from !== leaderId;
    leaderId = msg.from;
    leaderAccepts = msg.accepts === true;
    emit({ type: 'phase', phase: msg.phase });
    if (msg.status !== undefined) emit({ type: 'status', status: msg.status });
    if (msg.fatal !== undefined) return fail(new RemoteError(msg.fatal));
    if (changed) redispatch();
  }

  function onMessage(msg: TabMessage): void {
    if (role === 'closed') return;
    if (msg.t === 'hello') {
      if (role === 'leader') announce();
    } else if (msg.t === 'call') {
      if (role === 'leader' && msg.to === tabId) serve(msg);
    } else if (msg.t === 'accepted') {
      if (msg.to === tabId) pending.accepted(msg.id, msg.from);
    } else if (msg.t === 'result') {
      if (msg.to !== tabId) return;
      if (msg.ok) pending.resolve(msg.id, msg.value);
      else pending.reject(msg.id, new RemoteError(msg.error));
    } else if (role === 'follower') {
      if (msg.t === 'leader') follow(msg);
      else if (msg.from !== leaderId) return;
      else if (msg.t === 'event') emit(msg.event);
      else if (msg.t === 'fatal') fail(new RemoteError(msg.error));
      else if (msg.t === 'resign') {
        // Calls sent to it wait (bounded) for the next leader, which re-runs them.
        leaderId = undefined;
        emit({ type: 'phase', phase: 'starting' });
        redispatch();
      }
    }
  }

  channel.addEventListener('message', (ev: MessageEvent) => {
    const msg = parseTabMessage(ev.data);
    if (msg !== undefined && msg.from !== tabId) onMessage(msg);
  });

  const lead = (): Promise<void> => {
    if (role === 'closed') return Promise.resolve();
    becomeLeader();
    // Held until close(), or until the browser ends the tab.
    return new Promise<void>((resolve) => (releaseLock = resolve));
  };
  if (options.locks === undefined) void lead();
  else
    options.locks.request(options.lockName ?? LEADER_LOCK_NAME, { signal: abort.signal }, lead).catch(() => undefined);
  post({ t: 'hello', from: tabId });

  return {
    tabId,
    get role() {
      return role;
    },
    get leaderId() {
      return leaderId;
    },
    get phase() {
      return phase;
    },
    get lastStatus() {
      return last;
    },
    rpcTrace() {
      return role === 'leader' ? backend?.trace?.() : undefined;
    },
    call(method, args) {
      if (role === 'closed') return Promise.reject(new ClientClosedError());
      if (fatal !== undefined) return Promise.reject(fatal);
      const id = `${tabId}:${nextCall++}`;
      const answer = pending.add(id, method, args);
      dispatch(id, method, args, false);
      return answer;
    },
    subscribe(fn) {
      listeners.add(fn);
      fn({ type: 'phase', phase });
      if (last !== undefined) fn({ type: 'status', status: last });
      return () => listeners.delete(fn);
    },
    onFatal(fn) {
      fatalListeners.add(fn);
      if (fatal !== undefined) fn(fatal);
      return () => fatalListeners.delete(fn);
    },
    close() {
      if (role === 'closed') return;
      const led = role === 'leader';
      role = 'closed';
      pending.rejectAll(new ClientClosedError());
      if (led) {
        post({ t: 'resign', from: tabId });
        backend?.stop();
      }
      channel.close();
      abort.abort();
      releaseLock?.();
    }
  };
}
