// Messages between the worker's stand-in RTCPeerConnection and the main thread that owns the real one.
// Chromium exposes RTCPeerConnection to windows only; RTCDataChannel itself is transferable, so data
// never crosses the main thread: only SDP, ICE and state changes do.

export type PcMethod =
  'createOffer' | 'createAnswer' | 'setLocalDescription' | 'setRemoteDescription' | 'addIceCandidate';

export interface PcStates {
  connectionState: RTCPeerConnectionState;
  iceConnectionState: RTCIceConnectionState;
  iceGatheringState: RTCIceGatheringState;
  signalingState: RTCSignalingState;
}

/** Worker → main thread. */
export type BridgeRequest =
  | { t: 'pc-new'; pc: number; config: RTCConfiguration }
  | { t: 'pc-call'; pc: number; call: number; method: PcMethod; arg?: RTCSessionDescriptionInit | RTCIceCandidateInit }
  | { t: 'dc-new'; pc: number; dc: number; label: string; init: RTCDataChannelInit }
  | { t: 'pc-close'; pc: number };

/** Main thread → worker. Channels travel in the transfer list. */
export type BridgeEvent =
  | { t: 'pc-result'; call: number; ok: true; value?: RTCSessionDescriptionInit }
  | { t: 'pc-result'; call: number; ok: false; error: { name: string; message: string } }
  | { t: 'pc-state'; pc: number; states: PcStates; changed: (keyof PcStates)[] }
  | { t: 'pc-ice'; pc: number; candidate: RTCIceCandidateInit | null }
  | { t: 'pc-ice-error'; pc: number; errorCode: number; errorText: string }
  | { t: 'pc-datachannel'; pc: number; channel: RTCDataChannel }
  | { t: 'dc-ready'; pc: number; dc: number; channel: RTCDataChannel }
  | { t: 'dc-failed'; pc: number; dc: number; error: { name: string; message: string } };

/** The minimal port both halves talk over: a MessagePort, a Worker, or a test double. */
export interface BridgePort {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (ev: MessageEvent) => void): void;
  start?(): void;
}

export const STATE_EVENTS: Record<keyof PcStates, string> = {
  connectionState: 'connectionstatechange',
  iceConnectionState: 'iceconnectionstatechange',
  iceGatheringState: 'icegatheringstatechange',
  signalingState: 'signalingstatechange'
};

/** An error as plain data for postMessage: name, message, and the ledger's `code` when present. */
export function errorInfo(err: unknown): { name: string; message: string; code?: string } {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) };
}
