// Protocol ids and pubsub topics. They carry the network id, so nodes of different networks
// never share a topic or a protocol (SPEC §3 Network).

/** First 8 bytes of the network id, hex: short enough for ids, long enough to never collide by accident. */
export function shortNetworkId(networkIdHex: string): string {
  if (!/^[0-9a-f]{64}$/.test(networkIdHex)) throw new Error('network id must be 64 lowercase hex chars');
  return networkIdHex.slice(0, 16);
}

export interface NetworkNames {
  /** Pubsub topic where nodes announce their addresses. */
  discoveryTopic: string;
  /** Pubsub topic for new entries (push). */
  entriesTopic: string;
  /** Pubsub topic for node beacons (telemetry). */
  telemetryTopic: string;
  /** Byte echo protocol: a liveness check of direct streams. */
  echoProtocol: string;
}

export function networkNames(networkIdHex: string): NetworkNames {
  const id = shortNetworkId(networkIdHex);
  return {
    discoveryTopic: `tabula/${id}/discovery`,
    entriesTopic: `tabula/${id}/entries`,
    telemetryTopic: `tabula/${id}/telemetry`,
    echoProtocol: `/tabula/${id}/echo/1.0.0`
  };
}
