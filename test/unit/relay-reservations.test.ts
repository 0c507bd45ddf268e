// Circuit relay v2 reservations on the relay: freed when their peer leaves; capped per IP.
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningRelay } from '../../relay/server.js';
import { createRelayClient, dialRelay, waitFor, type ClientNode } from '../helpers/relay-client.js';
import { relayAddr, startTestRelay } from '../helpers/relay-fixture.js';

const running: Array<{ stop(): void | Promise<void> }> = [];

afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

async function relay(overrides = {}): Promise<RunningRelay> {
  const r = await startTestRelay(overrides);
  running.push(r);
  return r;
}

async function client(): Promise<ClientNode> {
  const c = await createRelayClient();
  running.push(c);
  return c;
}

/** True once the client holds a reservation (it then listens on a /p2p-circuit address). */
function hasCircuitAddr(c: ClientNode): boolean {
  return c.getMultiaddrs().some((ma) => ma.toString().includes('/p2p-circuit'));
}

describe('relay reservations', () => {
  it('frees a reservation as soon as its peer disconnects', async () => {
    const r = await relay();
    const a = await client();
    await dialRelay(a, relayAddr(r));
    await waitFor(() => r.node.services.relay.reservations.has(a.peerId) && hasCircuitAddr(a), 'a reservation');
    expect(r.node.services.relay.reservations.size).toBe(1);
    await a.stop();
    await waitFor(() => r.node.services.relay.reservations.size === 0, 'the reservation to be freed', 5000);
  });

  it('with one slot, a second distinct peer reserves once the first has left', async () => {
    const r = await relay({ maxReservations: 1 });
    const a = await client();
    await dialRelay(a, relayAddr(r));
    await waitFor(() => hasCircuitAddr(a), 'a reservation');
    const b = await client();
    await dialRelay(b, relayAddr(r));
    // While a holds the only slot, b is refused (it stays connected without a circuit address).
    await waitFor(() => r.node.getConnections(b.peerId).length > 0, 'b connected');
    await new Promise((res) => setTimeout(res, 300));
    expect(hasCircuitAddr(b)).toBe(false);
    expect(r.node.services.relay.reservations.has(b.peerId)).toBe(false);
    await a.stop();
    await waitFor(() => r.node.services.relay.reservations.size === 0, 'a to be freed', 5000);
    // b retries its reservation when it re-dials; a fresh client is the simplest distinct peer.
    const c = await client();
    await dialRelay(c, relayAddr(r));
    await waitFor(() => hasCircuitAddr(c) && r.node.services.relay.reservations.has(c.peerId), 'c to reserve');
  });

  it('caps reservations held from one IP address', async () => {
    const r = await relay({ maxReservationsPerIp: 1 });
    const a = await client();
    await dialRelay(a, relayAddr(r));
    await waitFor(() => hasCircuitAddr(a), 'a reservation');
    const b = await client();
    await dialRelay(b, relayAddr(r));
    await waitFor(() => r.node.getConnections(b.peerId).length > 0, 'b connected');
    await waitFor(() => r.guards.gater.reservationsRefused >= 1, 'a refusal', 5000);
    expect(r.node.services.relay.reservations.size).toBe(1);
    expect(hasCircuitAddr(b)).toBe(false);
  });

  it('caps libp2p connections from one IP address', async () => {
    const r = await relay({ maxConnectionsPerIp: 2 });
    const clients = await Promise.all([0, 1, 2].map(() => createRelayClient({ reserve: false })));
    running.push(...clients);
    await dialRelay(clients[0], relayAddr(r));
    await dialRelay(clients[1], relayAddr(r));
    await expect(dialRelay(clients[2], relayAddr(r))).rejects.toThrow();
    expect(r.guards.gater.connectionsRefused).toBeGreaterThanOrEqual(1);
    expect(r.node.getConnections().length).toBe(2);
    // A slot frees when a peer leaves.
    await clients[0].stop();
    await waitFor(() => r.node.getConnections().length === 1, 'a slot to free');
    await dialRelay(clients[2], relayAddr(r));
  });
});
