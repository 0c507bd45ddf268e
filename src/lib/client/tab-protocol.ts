// The messages tabs of one browser profile exchange over a BroadcastChannel: the leader tab runs
// the node (its worker) and answers every other tab's calls; it rebroadcasts the node's events.
import type { ErrorInfo, NodeEvent, NodeMethod, NodePhase, NodeStatus } from '../worker/messages.js';

/** BroadcastChannel name; channels (like Web Locks) are scoped to one origin in one profile. */
export const TAB_CHANNEL_NAME = 'tabula-tabs/v1';
/** Web Lock held by the leader tab for as long as it runs the node. */
export const LEADER_LOCK_NAME = 'tabula-leader';
/** Longest tab or call id accepted (UUIDs are 36 characters). */
export const MAX_ID_LENGTH = 64;

/** Every method a follower may ask the leader to run. */
export const NODE_METHODS: readonly NodeMethod[] = [
  'status',
  'echo',
  'put',
  'delete',
  'get',
  'records',
  'conflicts',
  'removals',
  'feeds',
  'history',
  'exportSnapshot',
  'importSnapshot',
  'network'
];

/** Where the write options go in a write method's arguments (NodeApi put and delete). */
const WRITE_OPTIONS_AT: Partial<Record<NodeMethod, number>> = { put: 2, delete: 1 };

/**
 * The arguments of call `id` as sent to the node: a write carries the call id as its tag, and
 * `retry` once the call is re-sent after a takeover (Ledger WriteOptions: a write its old leader
 * made but never answered is then answered with its entry, not made twice). Other calls as given.
 */
export function callArgs(method: NodeMethod, args: readonly unknown[], id: string, retry: boolean): unknown[] {
  const at = WRITE_OPTIONS_AT[method];
  if (at === undefined) return [...args];
  const out = Array.from({ length: at }, (_, i) => args[i]);
  out.push(retry ? { tag: id, retry: true } : { tag: id });
  return out;
}

export type TabMessage =
  /** A tab that just opened asks who leads; the leader answers with `leader`. */
  | { t: 'hello'; from: string }
  /**
   * Sent by a tab when it takes the lock, and in answer to `hello`. `accepts`: it posts
   * `accepted` for the calls it takes and honours their deadlines (tabs of builds before
   * 2026-12-04 do neither: a follower then waits for their answer without an accept bound).
   */
  | { t: 'leader'; from: string; phase: NodePhase; status?: NodeStatus; fatal?: ErrorInfo; accepts?: true }
  /** The leader stops leading (its client was closed); the next tab in the lock queue takes over. */
  | { t: 'resign'; from: string }
  /**
   * Follower → leader `to`. `id` is unique per call and kept when the call is re-sent. `deadline`
   * (epoch ms, the profile's one clock): the leader runs it only if it takes it by then (absent
   * from tabs of earlier builds: no deadline).
   */
  | { t: 'call'; id: string; from: string; to: string; method: NodeMethod; args: unknown[]; deadline?: number }
  /** Leader → follower `to`: call `id` was taken before its deadline and runs now. */
  | { t: 'accepted'; id: string; from: string; to: string }
  /** Leader → follower `to`. */
  | { t: 'result'; id: string; from: string; to: string; ok: true; value: unknown }
  | { t: 'result'; id: string; from: string; to: string; ok: false; error: ErrorInfo }
  /** A node event, rebroadcast by the leader. */
  | { t: 'event'; from: string; event: NodeEvent }
  /** The leader's node failed to start (e.g. a corrupt store): no tab of the profile can run it. */
  | { t: 'fatal'; from: string; error: ErrorInfo };

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isErrorInfo = (v: unknown): v is ErrorInfo =>
  isObject(v) && typeof v.name === 'string' && typeof v.message === 'string';

/**
 * Checks the shape of a message from another tab (same origin, but any script may post on the
 * channel); returns undefined for anything that is not a TabMessage. Payloads (call arguments,
 * results, events) are checked by the node and the UI as they are today across the worker boundary.
 */
export function parseTabMessage(data: unknown): TabMessage | undefined {
  if (!isObject(data) || !isId(data.from)) return undefined;
  switch (data.t) {
    case 'hello':
    case 'resign':
      return data as TabMessage;
    case 'leader':
      return typeof data.phase === 'string' ? (data as TabMessage) : undefined;
    case 'call':
      return isId(data.id) &&
        isId(data.to) &&
        NODE_METHODS.includes(data.method as NodeMethod) &&
        Array.isArray(data.args) &&
        (data.deadline === undefined || typeof data.deadline === 'number')
        ? (data as TabMessage)
        : undefined;
    case 'accepted':
      return isId(data.id) && isId(data.to) ? (data as TabMessage) : undefined;
    case 'result':
      return isId(data.id) && isId(data.to) && (data.ok === true || (data.ok === false && isErrorInfo(data.error)))
        ? (data as TabMessage)
        : undefined;
    case 'event':
      return isObject(data.event) && typeof data.event.type === 'string' ? (data as TabMessage) : undefined;
    case 'fatal':
      return isErrorInfo(data.error) ? (data as TabMessage) : undefined;
    default:
      return undefined;
  }
}
