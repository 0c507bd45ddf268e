// Main-thread half of the RTC bridge: owns real RTCPeerConnections on behalf of the worker.
import {
  errorInfo,
  STATE_EVENTS,
  type BridgeEvent,
  type BridgePort,
  type BridgeRequest,
  type PcStates
} from './rtc-bridge-protocol.js';

export interface BridgeHostOptions {
  /** The RTCPeerConnection constructor; tests pass a double. */
  RTCPeerConnection?: typeof RTCPeerConnection;
  /** Upper bound on peer connections one worker may hold open. */
  maxPeerConnections?: number;
}

export interface BridgeHost {
  /** Live peer connections, for status and tests. */
  readonly size: number;
  close(): void;
}

const DEFAULT_MAX_PEER_CONNECTIONS = 64;

function readStates(pc: RTCPeerConnection): PcStates {
  return {
    connectionState: pc.connectionState,
    iceConnectionState: pc.iceConnectionState,
    iceGatheringState: pc.iceGatheringState,
    signalingState: pc.signalingState
  };
}

export function serveRtcBridge(port: BridgePort, options: BridgeHostOptions = {}): BridgeHost {
  const Ctor = options.RTCPeerConnection ?? globalThis.RTCPeerConnection;
  const max = options.maxPeerConnections ?? DEFAULT_MAX_PEER_CONNECTIONS;
  const pcs = new Map<number, RTCPeerConnection>();
  const send = (msg: BridgeEvent, transfer: Transferable[] = []): void => port.postMessage(msg, transfer);

  function open(id: number, config: RTCConfiguration): void {
    if (pcs.has(id)) return;
    if (pcs.size >= max) {
      // Refuse by reporting failure; the worker's dial then fails like any unreachable peer.
      send({ t: 'pc-state', pc: id, states: closedStates(), changed: ['connectionState'] });
      return;
    }
    let pc: RTCPeerConnection;
    try {
      pc = new Ctor(config);
    } catch {
      // e.g. a malformed iceServers entry: the worker sees a closed connection, its dial fails.
      send({ t: 'pc-state', pc: id, states: closedStates(), changed: ['connectionState'] });
      return;
    }
    pcs.set(id, pc);
    let last = readStates(pc);
    const onState = (): void => {
      const now = readStates(pc);
      const changed = (Object.keys(STATE_EVENTS) as (keyof PcStates)[]).filter((k) => now[k] !== last[k]);
      last = now;
      if (changed.length > 0) send({ t: 'pc-state', pc: id, states: now, changed });
      if (now.connectionState === 'closed' || now.connectionState === 'failed') {
        if (now.connectionState === 'failed') pc.close();
        pcs.delete(id);
      }
    };
    for (const type of Object.values(STATE_EVENTS)) pc.addEventListener(type, onState);
    pc.addEventListener('icecandidate', (ev) => {
      send({ t: 'pc-ice', pc: id, candidate: ev.candidate === null ? null : ev.candidate.toJSON() });
    });
    pc.addEventListener('icecandidateerror', (ev) => {
      send({ t: 'pc-ice-error', pc: id, errorCode: ev.errorCode, errorText: ev.errorText });
    });
    // A channel can only be transferred in the task that received it.
    pc.addEventListener('datachannel', (ev) =>
      send({ t: 'pc-datachannel', pc: id, channel: ev.channel }, [ev.channel])
    );
  }

  async function call(msg: Extract<BridgeRequest, { t: 'pc-call' }>): Promise<void> {
    const pc = pcs.get(msg.pc);
    try {
      if (pc === undefined) throw new DOMException('peer connection is closed', 'InvalidStateError');
      let value: RTCSessionDescriptionInit | undefined;
      switch (msg.method) {
        case 'createOffer':
          value = toInit(await pc.createOffer());
          break;
        case 'createAnswer':
          value = toInit(await pc.createAnswer());
          break;
        case 'setLocalDescription':
          await pc.setLocalDescription(msg.arg as RTCSessionDescriptionInit | undefined);
          break;
        case 'setRemoteDescription':
          await pc.setRemoteDescription(msg.arg as RTCSessionDescriptionInit);
          break;
        case 'addIceCandidate':
          await pc.addIceCandidate(msg.arg as RTCIceCandidateInit | undefined);
          break;
        default:
          throw new TypeError(`unknown method ${String((msg as { method: unknown }).method)}`);
      }
      send({ t: 'pc-result', call: msg.call, ok: true, value });
    } catch (err) {
      send({ t: 'pc-result', call: msg.call, ok: false, error: errorInfo(err) });
    }
  }

  function createChannel(msg: Extract<BridgeRequest, { t: 'dc-new' }>): void {
    const pc = pcs.get(msg.pc);
    try {
      if (pc === undefined) throw new DOMException('peer connection is closed', 'InvalidStateError');
      const channel = pc.createDataChannel(msg.label, msg.init);
      send({ t: 'dc-ready', pc: msg.pc, dc: msg.dc, channel }, [channel]);
    } catch (err) {
      send({ t: 'dc-failed', pc: msg.pc, dc: msg.dc, error: errorInfo(err) });
    }
  }

  const onMessage = (ev: MessageEvent): void => {
    const msg = ev.data as BridgeRequest;
    switch (msg?.t) {
      case 'pc-new':
        return open(msg.pc, msg.config);
      case 'pc-call':
        void call(msg);
        return;
      case 'dc-new':
        return createChannel(msg);
      case 'pc-close':
        pcs.get(msg.pc)?.close();
        pcs.delete(msg.pc);
        return;
      default:
      // Unknown messages belong to other users of a shared port.
    }
  };
  port.addEventListener('message', onMessage);
  port.start?.();
  return {
    get size() {
      return pcs.size;
    },
    close() {
      port.removeEventListener('message', onMessage);
      for (const pc of pcs.values()) pc.close();
      pcs.clear();
    }
  };
}

function toInit(desc: RTCSessionDescriptionInit): RTCSessionDescriptionInit {
  return { type: desc.type, sdp: desc.sdp };
}

function closedStates(): PcStates {
  return {
    connectionState: 'closed',
    iceConnectionState: 'closed',
    iceGatheringState: 'complete',
    signalingState: 'closed'
  };
}
