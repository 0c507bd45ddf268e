// Worker half of the RTC bridge: an RTCPeerConnection look-alike whose real counterpart lives on
// the main thread. Installed as globalThis.RTCPeerConnection before libp2p's WebRTC transport loads.
import { DeferredDataChannel } from './deferred-data-channel.js';
import { eventWith, HandlerTarget } from './event-handlers.js';
import {
  STATE_EVENTS,
  type BridgeEvent,
  type BridgePort,
  type BridgeRequest,
  type PcMethod,
  type PcStates
} from './rtc-bridge-protocol.js';

export class BridgedIceCandidate {
  readonly candidate: string;
  readonly sdpMid: string | null;
  readonly sdpMLineIndex: number | null;
  readonly usernameFragment: string | null;
  constructor(init: RTCIceCandidateInit = {}) {
    this.candidate = init.candidate ?? '';
    this.sdpMid = init.sdpMid ?? null;
    this.sdpMLineIndex = init.sdpMLineIndex ?? null;
    this.usernameFragment = init.usernameFragment ?? null;
  }
  toJSON(): RTCIceCandidateInit {
    return {
      candidate: this.candidate,
      sdpMid: this.sdpMid,
      sdpMLineIndex: this.sdpMLineIndex,
      usernameFragment: this.usernameFragment
    };
  }
}

export class BridgedSessionDescription {
  readonly type: RTCSdpType;
  readonly sdp: string;
  constructor(init: RTCSessionDescriptionInit) {
    this.type = init.type;
    this.sdp = init.sdp ?? '';
  }
  toJSON(): RTCSessionDescriptionInit {
    return { type: this.type, sdp: this.sdp };
  }
}

/** One bridge connection: shared by every peer connection of this worker. */
class Link {
  #nextPc = 1;
  #nextCall = 1;
  #nextDc = 1;
  readonly pcs = new Map<number, BridgedPeerConnection>();
  readonly calls = new Map<
    number,
    { resolve: (v: RTCSessionDescriptionInit | undefined) => void; reject: (e: Error) => void }
  >();
  readonly channels = new Map<number, DeferredDataChannel>();

  constructor(readonly port: BridgePort) {
    port.addEventListener('message', (ev) => this.#receive(ev.data as BridgeEvent));
    port.start?.();
  }

  send(msg: BridgeRequest): void {
    this.port.postMessage(msg);
  }
  pcId(): number {
    return this.#nextPc++;
  }
  dcId(): number {
    return this.#nextDc++;
  }
  call(
    pc: number,
    method: PcMethod,
    arg?: RTCSessionDescriptionInit | RTCIceCandidateInit
  ): Promise<RTCSessionDescriptionInit | undefined> {
    const call = this.#nextCall++;
    return new Promise((resolve, reject) => {
      this.calls.set(call, { resolve, reject });
      this.send({ t: 'pc-call', pc, call, method, arg });
    });
  }

  #receive(msg: BridgeEvent): void {
    switch (msg?.t) {
      case 'pc-result': {
        const pending = this.calls.get(msg.call);
        this.calls.delete(msg.call);
        if (pending === undefined) return;
        if (msg.ok) pending.resolve(msg.value);
        else pending.reject(new DOMException(msg.error.message, msg.error.name));
        return;
      }
      case 'dc-ready':
      case 'dc-failed': {
        const channel = this.channels.get(msg.dc);
        this.channels.delete(msg.dc);
        if (msg.t === 'dc-ready') {
          if (channel === undefined) msg.channel.close();
          else channel.attach(msg.channel);
        } else {
          channel?.fail(new DOMException(msg.error.message, msg.error.name));
        }
        return;
      }
      case 'pc-state':
      case 'pc-ice':
      case 'pc-ice-error':
      case 'pc-datachannel': {
        const pc = this.pcs.get(msg.pc);
        if (pc === undefined) {
          if (msg.t === 'pc-datachannel') msg.channel.close();
          return;
        }
        pc.receive(msg);
        return;
      }
      default:
    }
  }
}

let link: Link | undefined;

export class BridgedPeerConnection extends HandlerTarget {
  readonly #id: number;
  readonly #link: Link;
  readonly #channels = new Set<DeferredDataChannel>();
  #states: PcStates = {
    connectionState: 'new',
    iceConnectionState: 'new',
    iceGatheringState: 'new',
    signalingState: 'stable'
  };
  #local: BridgedSessionDescription | null = null;
  #remote: BridgedSessionDescription | null = null;

  constructor(config: RTCConfiguration = {}) {
    super();
    if (link === undefined) throw new DOMException('RTC bridge is not installed', 'NotSupportedError');
    this.#link = link;
    this.#id = link.pcId();
    link.pcs.set(this.#id, this);
    // Certificates cannot be cloned across threads and are not used by libp2p's browser dialer.
    const { certificates: _omit, ...cloneable } = config;
    link.send({ t: 'pc-new', pc: this.#id, config: cloneable });
  }

  get connectionState(): RTCPeerConnectionState {
    return this.#states.connectionState;
  }
  get iceConnectionState(): RTCIceConnectionState {
    return this.#states.iceConnectionState;
  }
  get iceGatheringState(): RTCIceGatheringState {
    return this.#states.iceGatheringState;
  }
  get signalingState(): RTCSignalingState {
    return this.#states.signalingState;
  }
  get localDescription(): BridgedSessionDescription | null {
    return this.#local;
  }
  get remoteDescription(): BridgedSessionDescription | null {
    return this.#remote;
  }

  async createOffer(): Promise<BridgedSessionDescription> {
    return new BridgedSessionDescription((await this.#call('createOffer')) as RTCSessionDescriptionInit);
  }
  async createAnswer(): Promise<BridgedSessionDescription> {
    return new BridgedSessionDescription((await this.#call('createAnswer')) as RTCSessionDescriptionInit);
  }
  async setLocalDescription(desc?: RTCSessionDescriptionInit): Promise<void> {
    const init = desc === undefined ? undefined : { type: desc.type, sdp: desc.sdp };
    await this.#call('setLocalDescription', init);
    if (init !== undefined) this.#local = new BridgedSessionDescription(init);
  }
  async setRemoteDescription(desc: RTCSessionDescriptionInit): Promise<void> {
    const init = { type: desc.type, sdp: desc.sdp };
    await this.#call('setRemoteDescription', init);
    this.#remote = new BridgedSessionDescription(init);
  }
  async addIceCandidate(candidate?: RTCIceCandidateInit | null): Promise<void> {
    const init =
      candidate == null
        ? undefined
        : 'toJSON' in candidate && typeof candidate.toJSON === 'function'
          ? (candidate.toJSON() as RTCIceCandidateInit)
          : { ...candidate };
    await this.#call('addIceCandidate', init);
  }

  createDataChannel(label: string, init: RTCDataChannelInit = {}): DeferredDataChannel {
    if (this.#states.connectionState === 'closed')
      throw new DOMException('peer connection is closed', 'InvalidStateError');
    const channel = new DeferredDataChannel(label, init);
    const dc = this.#link.dcId();
    this.#link.channels.set(dc, channel);
    this.#channels.add(channel);
    channel.addEventListener('close', () => this.#channels.delete(channel));
    this.#link.send({ t: 'dc-new', pc: this.#id, dc, label, init: { ...init } });
    return channel;
  }

  close(): void {
    if (this.#states.connectionState === 'closed') return;
    // Like the real one: close() changes state without firing events.
    this.#states = {
      connectionState: 'closed',
      iceConnectionState: 'closed',
      iceGatheringState: this.#states.iceGatheringState,
      signalingState: 'closed'
    };
    this.#link.send({ t: 'pc-close', pc: this.#id });
    this.#release();
  }

  #release(): void {
    this.#link.pcs.delete(this.#id);
    for (const ch of this.#channels) ch.fail();
    this.#channels.clear();
  }

  /** @internal Bridge events for this peer connection. */
  receive(msg: Extract<BridgeEvent, { pc: number }>): void {
    switch (msg.t) {
      case 'pc-state':
        if (this.#states.connectionState === 'closed') return;
        this.#states = msg.states;
        // The main thread already dropped a closed connection; release ours before telling listeners.
        if (msg.states.connectionState === 'closed') this.#release();
        for (const key of msg.changed) this.dispatchEvent(new Event(STATE_EVENTS[key]));
        return;
      case 'pc-ice':
        this.dispatchEvent(
          eventWith('icecandidate', {
            candidate: msg.candidate === null ? null : new BridgedIceCandidate(msg.candidate)
          })
        );
        return;
      case 'pc-ice-error':
        this.dispatchEvent(eventWith('icecandidateerror', { errorCode: msg.errorCode, errorText: msg.errorText }));
        return;
      case 'pc-datachannel':
        this.dispatchEvent(eventWith('datachannel', { channel: msg.channel }));
        return;
      default:
    }
  }

  #call(
    method: PcMethod,
    arg?: RTCSessionDescriptionInit | RTCIceCandidateInit
  ): Promise<RTCSessionDescriptionInit | undefined> {
    if (this.#states.connectionState === 'closed')
      return Promise.reject(new DOMException('peer connection is closed', 'InvalidStateError'));
    return this.#link.call(this.#id, method, arg);
  }

  get onconnectionstatechange() {
    return this.getHandler('connectionstatechange');
  }
  set onconnectionstatechange(fn) {
    this.setHandler('connectionstatechange', fn);
  }
  get oniceconnectionstatechange() {
    return this.getHandler('iceconnectionstatechange');
  }
  set oniceconnectionstatechange(fn) {
    this.setHandler('iceconnectionstatechange', fn);
  }
  get onicegatheringstatechange() {
    return this.getHandler('icegatheringstatechange');
  }
  set onicegatheringstatechange(fn) {
    this.setHandler('icegatheringstatechange', fn);
  }
  get onsignalingstatechange() {
    return this.getHandler('signalingstatechange');
  }
  set onsignalingstatechange(fn) {
    this.setHandler('signalingstatechange', fn);
  }
  get onicecandidate() {
    return this.getHandler('icecandidate');
  }
  set onicecandidate(fn) {
    this.setHandler('icecandidate', fn);
  }
  get onicecandidateerror() {
    return this.getHandler('icecandidateerror');
  }
  set onicecandidateerror(fn) {
    this.setHandler('icecandidateerror', fn);
  }
  get ondatachannel() {
    return this.getHandler('datachannel');
  }
  set ondatachannel(fn) {
    this.setHandler('datachannel', fn);
  }
}

/**
 * Make WebRTC usable in this worker. Must run before @libp2p/webrtc is imported, because that module
 * captures globalThis.RTCPeerConnection when it loads. Does nothing where the real API exists.
 */
export function installRtcBridge(
  port: BridgePort,
  scope: Record<string, unknown> = globalThis as unknown as Record<string, unknown>
): boolean {
  if (typeof scope.RTCPeerConnection === 'function' && scope.RTCPeerConnection !== BridgedPeerConnection) return false;
  link = new Link(port);
  scope.RTCPeerConnection = BridgedPeerConnection;
  scope.RTCSessionDescription = BridgedSessionDescription;
  scope.RTCIceCandidate = BridgedIceCandidate;
  return true;
}
