// One client per page: every component and window.tabula share it (see client.ts for tabs).
import { createClient, type TabulaClient } from './client.js';

declare global {
  interface Window {
    tabula?: TabulaClient;
  }
}

let client: TabulaClient | undefined;

export function getClient(): TabulaClient {
  if (client === undefined) {
    client = createClient();
    window.tabula = client;
  }
  return client;
}

export {
  ClientClosedError,
  LeaderUnavailableError,
  RemoteError,
  type StorageInfo,
  type TabRole,
  type TabulaClient
} from './client.js';
export type * from '../worker/messages.js';
