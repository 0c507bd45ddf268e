// One node per page: the client every component and window.tabula share.
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

export { RemoteError, type TabulaClient } from './client.js';
export type * from '../worker/messages.js';
