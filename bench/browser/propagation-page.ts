// Row 1 in the page: imported into the app page of every device (bench/browser/propagation.ts),
// so Tabula (window.tabula, the app's own node) and the comparator, a Yjs document shared with
// y-webrtc and its signalling server, run in the same tabs. Writes carry their commit time
// (performance.timeOrigin + performance.now(), comparable across the browsers of one machine; the
// driver also measures each page's offset to its own clock) and the writing device; every other
// device records when the write was applied there.
import * as Y from 'yjs';
import { WebrtcProvider } from 'y-webrtc';

export type System = 'tabula' | 'y-webrtc';

/** One write applied on this device: key, commit time at the writer and time applied here (ms since the epoch). */
export interface Applied {
  key: string;
  sentAt: number;
  at: number;
}

export interface WriteResult {
  failed: number;
  ackMs: number[];
}

/** A type, not an interface: it must fit JsonValue's index signature. */
type WriteValue = {
  t: number;
  d: number;
  p: string;
};

export interface PropagationApi {
  /** Subscribes to both systems and joins the y-webrtc room (no ICE servers: loopback only). */
  init(device: number, signalingUrl: string, room: string): void;
  /** y-webrtc peers with an open data channel. */
  yjsPeers(): number;
  /**
   * `count` writes, one every `periodMs` from now; resolves once all were committed. For Tabula
   * also the time from each put to its acknowledgement (signed and durable in this node), ms, by
   * write index (NaN: failed).
   */
  write(system: System, round: number, count: number, periodMs: number, padBytes: number): Promise<WriteResult>;
  /** Writes of other devices applied here since the last take, then forgets them. */
  take(system: System): Applied[];
  /**
   * This page's clock (performance.timeOrigin + performance.now()) minus the system clock, ms:
   * read at the instant Date.now() steps to its next millisecond (median of 5).
   */
  clockOffset(): number;
  close(): void;
}

declare global {
  interface Window {
    benchPropagation?: PropagationApi;
  }
}

const now = (): number => performance.timeOrigin + performance.now();
const KEY_PREFIX = 'prop-';

let me = -1;
let provider: WebrtcProvider | undefined;
let doc: Y.Doc | undefined;
const applied: Record<System, Applied[]> = { tabula: [], 'y-webrtc': [] };

function record(system: System, key: string, value: unknown): void {
  const at = now();
  if (!key.startsWith(KEY_PREFIX) || typeof value !== 'object' || value === null) return;
  const v = value as Partial<WriteValue>;
  if (typeof v.t !== 'number' || v.d === me) return;
  applied[system].push({ key, sentAt: v.t, at });
}

function init(device: number, signalingUrl: string, room: string): void {
  me = device;
  window.tabula!.subscribe((ev) => {
    if (ev.type !== 'records') return;
    for (const c of ev.changes) if (c.action !== 'delete') record('tabula', c.key, c.value);
  });
  doc = new Y.Doc();
  const map = doc.getMap<WriteValue>('prop');
  map.observe((ev, tr) => {
    if (tr.local) return;
    for (const key of ev.keysChanged) record('y-webrtc', key, map.get(key));
  });
  provider = new WebrtcProvider(room, doc, {
    signaling: [signalingUrl],
    peerOpts: { config: { iceServers: [] } }
  });
}

function yjsPeers(): number {
  const conns = provider?.room?.webrtcConns;
  if (!conns) return 0;
  let open = 0;
  for (const c of conns.values()) if (c.connected) open++;
  return open;
}

async function write(
  system: System,
  round: number,
  count: number,
  periodMs: number,
  padBytes: number
): Promise<WriteResult> {
  const map = doc!.getMap<WriteValue>('prop');
  const pad = 'x'.repeat(padBytes);
  const acks: Promise<unknown>[] = [];
  let failed = 0;
  const ackMs = new Array<number>(count).fill(NaN);
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const wait = start + i * periodMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const key = `${KEY_PREFIX}${system}-${round}-${me}-${i}`;
    const value: WriteValue = { t: now(), d: me, p: pad };
    if (system === 'tabula') {
      const put = window.tabula!.put(key, value);
      acks.push(put.then(() => (ackMs[i] = now() - value.t)).catch(() => failed++));
    } else map.set(key, value);
  }
  await Promise.all(acks);
  return { failed, ackMs };
}

function clockOffset(): number {
  const out: number[] = [];
  for (let i = 0; i < 5; i++) {
    const ms = Date.now();
    let next = ms;
    while (next === ms) next = Date.now();
    out.push(now() - next);
  }
  return out.sort((a, b) => a - b)[2];
}

function take(system: System): Applied[] {
  return applied[system].splice(0);
}

window.benchPropagation = {
  init,
  yjsPeers,
  write,
  take,
  clockOffset,
  close: () => {
    provider?.destroy();
    doc?.destroy();
  }
};
