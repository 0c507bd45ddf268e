// Test doubles for the main thread's WebRTC objects: enough behaviour to drive the bridge.
export class FakeDataChannel extends EventTarget {
  static nextId = 0;
  id: number | null = FakeDataChannel.nextId++;
  readyState: RTCDataChannelState = 'connecting';
  binaryType: BinaryType = 'blob';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  readonly sent: unknown[] = [];
  constructor(readonly label: string) {
    super();
  }
  send(data: unknown): void {
    if (this.readyState !== 'open') throw new DOMException('not open', 'InvalidStateError');
    this.sent.push(data);
  }
  open(): void {
    this.readyState = 'open';
    this.dispatchEvent(new Event('open'));
  }
  receive(data: unknown): void {
    this.dispatchEvent(new MessageEvent('message', { data }));
  }
  close(): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    this.dispatchEvent(new Event('close'));
  }
}

export class FakePeerConnection extends EventTarget {
  static instances: FakePeerConnection[] = [];
  connectionState: RTCPeerConnectionState = 'new';
  iceConnectionState: RTCIceConnectionState = 'new';
  iceGatheringState: RTCIceGatheringState = 'new';
  signalingState: RTCSignalingState = 'stable';
  readonly channels: FakeDataChannel[] = [];
  readonly candidates: (RTCIceCandidateInit | undefined)[] = [];
  local: RTCSessionDescriptionInit | undefined;
  remote: RTCSessionDescriptionInit | undefined;
  closed = false;
  failNext: string | undefined;

  constructor(readonly config: RTCConfiguration) {
    super();
    FakePeerConnection.instances.push(this);
  }
  #maybeFail(): void {
    if (this.failNext !== undefined) {
      const name = this.failNext;
      this.failNext = undefined;
      throw new DOMException(`forced ${name}`, name);
    }
  }
  async createOffer(): Promise<RTCSessionDescriptionInit> {
    this.#maybeFail();
    return { type: 'offer', sdp: 'v=0 offer' };
  }
  async createAnswer(): Promise<RTCSessionDescriptionInit> {
    this.#maybeFail();
    return { type: 'answer', sdp: 'v=0 answer' };
  }
  async setLocalDescription(d?: RTCSessionDescriptionInit): Promise<void> {
    this.#maybeFail();
    this.local = d;
    this.setState({
      iceGatheringState: 'gathering',
      signalingState: d?.type === 'offer' ? 'have-local-offer' : 'stable'
    });
  }
  async setRemoteDescription(d: RTCSessionDescriptionInit): Promise<void> {
    this.#maybeFail();
    this.remote = d;
  }
  async addIceCandidate(c?: RTCIceCandidateInit): Promise<void> {
    this.#maybeFail();
    this.candidates.push(c);
  }
  createDataChannel(label: string): FakeDataChannel {
    if (this.closed) throw new DOMException('closed', 'InvalidStateError');
    const ch = new FakeDataChannel(label);
    this.channels.push(ch);
    return ch;
  }
  close(): void {
    this.closed = true;
    this.connectionState = 'closed';
    this.signalingState = 'closed';
  }
  /** Change states and fire the matching events, as the browser does. */
  setState(
    s: Partial<
      Pick<FakePeerConnection, 'connectionState' | 'iceConnectionState' | 'iceGatheringState' | 'signalingState'>
    >
  ): void {
    const events: Record<string, string> = {
      connectionState: 'connectionstatechange',
      iceConnectionState: 'iceconnectionstatechange',
      iceGatheringState: 'icegatheringstatechange',
      signalingState: 'signalingstatechange'
    };
    for (const [k, v] of Object.entries(s)) {
      (this as Record<string, unknown>)[k] = v;
      this.dispatchEvent(new Event(events[k]));
    }
  }
  emitCandidate(init: RTCIceCandidateInit | null): void {
    const ev = new Event('icecandidate') as Event & { candidate: unknown };
    Object.defineProperty(ev, 'candidate', { value: init === null ? null : { ...init, toJSON: () => init } });
    this.dispatchEvent(ev);
  }
  remoteChannel(label: string): FakeDataChannel {
    const ch = new FakeDataChannel(label);
    const ev = new Event('datachannel');
    Object.defineProperty(ev, 'channel', { value: ch });
    this.dispatchEvent(ev);
    return ch;
  }
}
