import type { TabulaClient } from '../../src/lib/client/client.js';

declare global {
  interface Window {
    tabula?: TabulaClient;
    complianceResults?: { name: string; ok: boolean; error?: string }[];
  }
}
export {};
