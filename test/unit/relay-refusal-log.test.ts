// The relay logs what its limits refuse (relay/refusal-log.ts): who, and which limit, at most
// one line per source and reason per window; a real relay at its per-IP connection cap says so.
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { RefusalLog, REFUSAL_LOG_WINDOW_MS } from '../../relay/refusal-log.js';
import { createRelayNode, type RelayNode } from '../../relay/node.js';
import { createRelayClient, dialRelay, type ClientNode } from '../helpers/relay-client.js';

describe('RefusalLog', () => {
  it('writes one line per source and reason per window, then says how many more it held back', () => {
    let t = 0;
    const lines: string[] = [];
    const log = new RefusalLog(
      (l) => lines.push(l),
      () => t
    );
    for (let i = 0; i < 5; i++) log.refused('10.0.0.7', 'connection-cap');
    log.refused('10.0.0.8', 'connection-cap');
    log.refused('10.0.0.7', 'abusive-ip');
    expect(lines).toEqual([
      'relay: refused a connection from 10.0.0.7: its IP holds the most connections allowed per IP (--max-connections-per-ip)',
      'relay: refused a connection from 10.0.0.8: its IP holds the most connections allowed per IP (--max-connections-per-ip)',
      'relay: refused a connection from 10.0.0.7: its IP is abusive (relay/ip-abuse.ts, --ip-abuse-threshold)'
    ]);
    t = REFUSAL_LOG_WINDOW_MS;
    log.refused('10.0.0.7', 'connection-cap');
    expect(lines[3]).toMatch(/from 10\.0\.0\.7: .* \(and 4 more since the last such line\)$/);
  });
});

describe('relay refusal log', () => {
  let relay: RelayNode | undefined;
  const clients: ClientNode[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.stop();
    await relay?.stop();
  });

  it('a connection over the per-IP cap is refused and logged with its IP and the limit', async () => {
    const lines: string[] = [];
    ({ node: relay } = await createRelayNode({
      privateKey: await generateKeyPair('Ed25519'),
      host: '127.0.0.1',
      port: 0,
      maxReservations: 4,
      maxReservationsPerIp: 4,
      maxConnections: 8,
      maxConnectionsPerIp: 1,
      gossipMaxFrameBytes: 256 * 1024,
      gossipRate: 100,
      topics: [],
      refusalLog: new RefusalLog((l) => lines.push(l))
    }));
    const addr = relay.getMultiaddrs()[0].toString();
    for (let i = 0; i < 2; i++) clients.push(await createRelayClient({ reserve: false }));
    await dialRelay(clients[0], addr);
    await expect(dialRelay(clients[1], addr)).rejects.toThrow();
    expect(lines).toEqual([
      'relay: refused a connection from 127.0.0.1: its IP holds the most connections allowed per IP (--max-connections-per-ip)'
    ]);
  });
});
