import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serveRtcBridge, type BridgeHost } from '../../src/lib/worker/rtc-bridge-host.js';
import {
  BridgedIceCandidate,
  BridgedPeerConnection,
  BridgedSessionDescription,
  installRtcBridge
} from '../../src/lib/worker/rtc-bridge-worker.js';
import { DeferredDataChannel } from '../../src/lib/worker/deferred-data-channel.js';
import { FakePeerConnection } from '../helpers/fake-rtc.js';
import { portPair } from '../helpers/port-pair.js';

/** Wait until `cond` holds, polling the event loop (bridge messages are async). */
async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let host: BridgeHost;
let scope: Record<string, unknown>;

beforeEach(() => {
  FakePeerConnection.instances = [];
  const [mainPort, workerPort] = portPair();
  host = serveRtcBridge(mainPort, {
    RTCPeerConnection: FakePeerConnection as unknown as typeof RTCPeerConnection,
    maxPeerConnections: 3
  });
  scope = {};
  expect(installRtcBridge(workerPort, scope)).toBe(true);
});

afterEach(() => host.close());

function newPc(): { pc: BridgedPeerConnection; real: () => FakePeerConnection } {
  const Ctor = scope.RTCPeerConnection as typeof BridgedPeerConnection;
  const pc = new Ctor({ iceServers: [] });
  const index = FakePeerConnection.instances.length;
  return { pc, real: () => FakePeerConnection.instances[index] };
}

describe('installRtcBridge', () => {
  it('installs stand-ins only where RTCPeerConnection is missing', () => {
    expect(scope.RTCPeerConnection).toBe(BridgedPeerConnection);
    expect(scope.RTCSessionDescription).toBe(BridgedSessionDescription);
    expect(scope.RTCIceCandidate).toBe(BridgedIceCandidate);
    const native = { RTCPeerConnection: function Native() {} };
    expect(installRtcBridge(portPair()[1], native)).toBe(false);
    expect(native.RTCPeerConnection.name).toBe('Native');
  });

  it('round-trips candidates and descriptions as plain data', () => {
    const c = new BridgedIceCandidate({
      candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host',
      sdpMid: '0',
      sdpMLineIndex: 0
    });
    expect(JSON.parse(JSON.stringify(c))).toEqual({
      candidate: c.candidate,
      sdpMid: '0',
      sdpMLineIndex: 0,
      usernameFragment: null
    });
    expect(new BridgedSessionDescription({ type: 'answer', sdp: 'x' }).toJSON()).toEqual({ type: 'answer', sdp: 'x' });
  });
});

describe('BridgedPeerConnection', () => {
  it('creates the real connection on the main thread with the same configuration', async () => {
    newPc();
    await until(() => FakePeerConnection.instances.length === 1, 'real pc');
    expect(FakePeerConnection.instances[0].config).toEqual({ iceServers: [] });
    expect(host.size).toBe(1);
  });

  it('runs the offer/answer calls on the real connection and returns their results', async () => {
    const { pc, real } = newPc();
    const offer = await pc.createOffer();
    expect(offer).toBeInstanceOf(BridgedSessionDescription);
    expect(offer.sdp).toBe('v=0 offer');
    await pc.setLocalDescription(offer);
    expect(real().local).toEqual({ type: 'offer', sdp: 'v=0 offer' });
    expect(pc.localDescription?.sdp).toBe('v=0 offer');
    await pc.setRemoteDescription({ type: 'answer', sdp: 'remote' });
    expect(real().remote).toEqual({ type: 'answer', sdp: 'remote' });
    await pc.addIceCandidate(new BridgedIceCandidate({ candidate: 'c1', sdpMid: '0' }));
    expect(real().candidates[0]).toMatchObject({ candidate: 'c1', sdpMid: '0' });
  });

  it('rejects with the real error name and message', async () => {
    const { pc, real } = newPc();
    await until(() => real() !== undefined);
    real().failNext = 'OperationError';
    const err = await pc.createAnswer().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DOMException);
    expect((err as DOMException).name).toBe('OperationError');
    expect((err as DOMException).message).toBe('forced OperationError');
  });

  it('mirrors state changes and fires both listeners and on-handlers, in order', async () => {
    const { pc, real } = newPc();
    await until(() => real() !== undefined);
    const seen: string[] = [];
    pc.addEventListener('connectionstatechange', () => seen.push(`listener:${pc.connectionState}`));
    pc.onconnectionstatechange = () => seen.push(`handler:${pc.connectionState}`);
    real().setState({ connectionState: 'connecting' });
    real().setState({ connectionState: 'connected', iceConnectionState: 'connected' });
    await until(() => seen.length === 4, 'state events');
    expect(seen).toEqual(['listener:connecting', 'handler:connecting', 'listener:connected', 'handler:connected']);
    expect(pc.iceConnectionState).toBe('connected');
    // Replacing the handler drops the old one.
    const second: string[] = [];
    pc.onconnectionstatechange = () => second.push(pc.connectionState);
    real().setState({ connectionState: 'disconnected' });
    await until(() => second.length === 1);
    expect(seen).toHaveLength(5);
  });

  it('forwards ICE candidates, including end-of-candidates', async () => {
    const { pc, real } = newPc();
    await until(() => real() !== undefined);
    const got: (BridgedIceCandidate | null)[] = [];
    pc.onicecandidate = (ev: Event) => got.push((ev as Event & { candidate: BridgedIceCandidate | null }).candidate);
    real().emitCandidate({ candidate: 'candidate:x', sdpMid: '0', sdpMLineIndex: 0 });
    real().emitCandidate(null);
    await until(() => got.length === 2);
    expect(got[0]).toBeInstanceOf(BridgedIceCandidate);
    expect(got[0]?.toJSON()).toMatchObject({ candidate: 'candidate:x', sdpMid: '0' });
    expect(got[1]).toBeNull();
  });

  it('hands out a data channel at once and forwards to the real one when it arrives', async () => {
    const { pc, real } = newPc();
    const ch = pc.createDataChannel('', { ordered: true });
    expect(ch).toBeInstanceOf(DeferredDataChannel);
    expect(ch.readyState).toBe('connecting');
    expect(() => ch.send(new Uint8Array([1]))).toThrow(/readyState/);
    ch.binaryType = 'arraybuffer';
    const events: string[] = [];
    ch.onopen = () => events.push('open');
    ch.addEventListener('message', (ev) => events.push(`message:${String((ev as MessageEvent).data)}`));
    ch.onclose = () => events.push('close');
    await until(() => real()?.channels.length === 1, 'real channel');
    await until(() => ch.id !== null, 'attach');
    const realCh = real().channels[0];
    expect(realCh.binaryType).toBe('arraybuffer');
    realCh.open();
    expect(ch.readyState).toBe('open');
    ch.send(new Uint8Array([7]));
    expect(realCh.sent).toHaveLength(1);
    realCh.receive('hello');
    ch.close();
    expect(events).toEqual(['open', 'message:hello', 'close']);
  });

  it('closes a channel that was closed before the real one arrived', async () => {
    const { pc, real } = newPc();
    const ch = pc.createDataChannel('init');
    ch.close();
    await until(() => real()?.channels[0]?.readyState === 'closed', 'real channel closed');
  });

  it('delivers channels opened by the remote side', async () => {
    const { pc, real } = newPc();
    await until(() => real() !== undefined);
    const got: unknown[] = [];
    pc.ondatachannel = (ev: Event) => got.push((ev as Event & { channel: unknown }).channel);
    const remote = real().remoteChannel('');
    await until(() => got.length === 1);
    expect(got[0]).toBe(remote);
  });

  it('close() closes the real connection, fails pending channels and refuses further calls', async () => {
    const { pc, real } = newPc();
    await until(() => real() !== undefined);
    const ch = pc.createDataChannel('');
    let closed = false;
    ch.onclose = () => (closed = true);
    pc.close();
    expect(pc.connectionState).toBe('closed');
    expect(closed).toBe(true);
    await until(() => real().closed, 'real close');
    expect(host.size).toBe(0);
    await expect(pc.createOffer()).rejects.toMatchObject({ name: 'InvalidStateError' });
    expect(() => pc.createDataChannel('')).toThrow(/closed/);
  });

  it('drops a connection the main thread saw fail, and tells the worker', async () => {
    const { pc, real } = newPc();
    await until(() => real() !== undefined);
    real().setState({ connectionState: 'failed' });
    await until(() => pc.connectionState === 'failed');
    expect(real().closed).toBe(true);
    expect(host.size).toBe(0);
  });

  it('reports a connection the main thread could not create as closed', async () => {
    const [mainPort, workerPort] = portPair();
    const throwing = function () {
      throw new DOMException('bad ice server', 'SyntaxError');
    } as unknown as typeof RTCPeerConnection;
    const badHost = serveRtcBridge(mainPort, { RTCPeerConnection: throwing });
    const badScope: Record<string, unknown> = {};
    installRtcBridge(workerPort, badScope);
    const pc = new (badScope.RTCPeerConnection as typeof BridgedPeerConnection)({});
    await until(() => pc.connectionState === 'closed', 'closed state');
    await expect(pc.createOffer()).rejects.toMatchObject({ name: 'InvalidStateError' });
    badHost.close();
  });

  it('refuses more peer connections than its limit', async () => {
    const pcs = [newPc(), newPc(), newPc(), newPc()];
    await until(() => pcs[3].pc.connectionState === 'closed', 'fourth refused');
    expect(FakePeerConnection.instances).toHaveLength(3);
    expect(pcs[0].pc.connectionState).toBe('new');
  });
});
