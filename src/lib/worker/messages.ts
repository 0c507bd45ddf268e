// The typed contract between the page (client) and the node's worker.

export type Transport = 'webrtc' | 'relayed' | 'websocket';

export interface PeerStatus {
  id: string;
  /** Best transport currently open to this peer. */
  transport: Transport;
  /** Last measured ping round trip, ms; null until measured. */
  rttMs: number | null;
  /** Whether the peer is one of the site's relays. */
  relay: boolean;
}

export interface RelayStatus {
  addr: string;
  connected: boolean;
}

export interface NodeStatus {
  peerId: string;
  networkId: string;
  online: boolean;
  peers: PeerStatus[];
  relays: RelayStatus[];
  /** Our dialable addresses (circuit/webrtc), once a relay reservation is held. */
  addrs: string[];
  startedAt: number;
}

/** Everything the worker answers. Each method is async across the thread boundary. */
export interface NodeApi {
  status(): NodeStatus;
  /** Send bytes over the echo protocol to a directly connected peer and return what came back. */
  echo(peerId: string, data: Uint8Array): Uint8Array;
}

export type NodeMethod = keyof NodeApi;

export interface InitConfig {
  /** Site origin that serves /api/relays. */
  origin: string;
  iceServers: RTCIceServer[];
}

/** Page → worker. The first message is always `init`, carrying the RTC bridge port. */
export type ToWorker =
  | { kind: 'init'; config: InitConfig; bridge: MessagePort }
  | { [M in NodeMethod]: { kind: 'call'; id: number; method: M; args: Parameters<NodeApi[M]> } }[NodeMethod];

/** Worker → page. */
export type FromWorker =
  | { kind: 'result'; id: number; ok: true; value: unknown }
  | { kind: 'result'; id: number; ok: false; error: { name: string; message: string } }
  | { kind: 'status'; status: NodeStatus }
  | { kind: 'fatal'; error: { name: string; message: string } };
