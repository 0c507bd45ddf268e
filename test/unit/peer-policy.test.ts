import { describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import { relayAwareGater } from '../../src/lib/platform/libp2p-browser.js';
import { classify } from '../../src/lib/worker/peer-status.js';

const RELAY = '/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooWGw7s97HRwbz16h7w3ub8kvtk9ATFLvhaZa7atjN1xeJr';
const PEER = '12D3KooWSATJy3yFQrkgjwJnqxVm56fDHZVqKHBsx93vvortgfGb';

describe('relayAwareGater', () => {
  const gater = relayAwareGater([RELAY]);

  it('allows the relays the site named, and WebRTC signalling through them', () => {
    expect(gater.denyDialMultiaddr(multiaddr(RELAY))).toBe(false);
    expect(gater.denyDialMultiaddr(multiaddr(`${RELAY}/p2p-circuit/webrtc/p2p/${PEER}`))).toBe(false);
  });

  it('keeps the browser defaults for everything else', () => {
    expect(gater.denyDialMultiaddr(multiaddr('/ip4/127.0.0.1/tcp/9091/ws'))).toBe(true);
    expect(gater.denyDialMultiaddr(multiaddr('/ip4/10.0.0.1/tcp/443/wss'))).toBe(true);
    expect(gater.denyDialMultiaddr(multiaddr('/ip4/8.8.8.8/tcp/443/wss'))).toBe(false);
    // A look-alike that merely starts with the relay's text is not the relay.
    expect(gater.denyDialMultiaddr(multiaddr(`/ip4/127.0.0.1/tcp/9090/ws/p2p/${PEER}`))).toBe(true);
  });
});

describe('classify', () => {
  const addr = multiaddr(`${RELAY}/p2p-circuit/webrtc/p2p/${PEER}`);

  it('calls a connection with relay limits relayed, whatever its address says', () => {
    expect(classify({ limits: { bytes: 1n }, multiplexer: '/yamux/1.0.0', remoteAddr: addr })).toBe('relayed');
  });

  it('calls an unlimited /webrtc-muxed connection webrtc even though its address has /p2p-circuit', () => {
    expect(classify({ limits: undefined, multiplexer: '/webrtc', remoteAddr: addr })).toBe('webrtc');
  });

  it('calls anything else websocket', () => {
    expect(classify({ limits: undefined, multiplexer: '/yamux/1.0.0', remoteAddr: multiaddr(RELAY) })).toBe(
      'websocket'
    );
  });
});
