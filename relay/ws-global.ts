// Node 20 has no global WebSocket (Node 22 does), and @libp2p/websockets dials with the global
// one: without it the relay can listen but not dial, so the mesh (relay to relay) never connects.
// `ws` is the library the relay's own listener uses; on Node 22+ this is a no-op.
import { createRequire } from 'node:module';

globalThis.WebSocket ??= (createRequire(import.meta.url)('ws') as { WebSocket: typeof WebSocket }).WebSocket;

export {};
