/// <reference types="vite/client" />
// The network a page is opened for: `?network=<id>` in its address, else the id the app was
// built with (VITE_TABULA_NETWORK), else none (the bundled network). Passed on unchecked: the
// node validates it (InvalidNetworkIdError) and refuses a site serving another network.
import { defaultSignedGenesis } from '../core/genesis-document.js';

const BUNDLED_NETWORK_ID = defaultSignedGenesis().networkId;

/** The page's pin: the `network` query parameter, else `buildPin`; blank values count as absent. */
export function networkPin(search: string, buildPin: string | undefined): string | undefined {
  const fromUrl = new URLSearchParams(search).get('network')?.trim();
  if (fromUrl) return fromUrl;
  const fromBuild = buildPin?.trim();
  return fromBuild ? fromBuild : undefined;
}

/** The id this build pins (VITE_TABULA_NETWORK at build time), or undefined. */
export function buildNetworkPin(): string | undefined {
  const v: unknown = import.meta.env.VITE_TABULA_NETWORK;
  return typeof v === 'string' ? v : undefined;
}

/**
 * `base` for the bundled network (unchanged names), `base:<id>` for a pinned one: tabs of
 * different networks never share a leader, a tab channel or a node lock (their stores differ).
 */
export function networkScopedName(base: string, pin: string | undefined): string {
  const id = pin?.trim().toLowerCase();
  return id === undefined || id === '' || id === BUNDLED_NETWORK_ID ? base : `${base}:${id}`;
}
