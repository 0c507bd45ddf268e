// A reactive view of the node's status for Svelte components.
import { getClient } from './index.js';
import type { NodeStatus } from '../worker/messages.js';

export function liveStatus(): { readonly current: NodeStatus | undefined; readonly error: string | undefined } {
  let current = $state<NodeStatus | undefined>(undefined);
  let error = $state<string | undefined>(undefined);
  $effect(() => {
    const client = getClient();
    const off = client.subscribe((s) => (current = s));
    const offFatal = client.onFatal((e) => (error = e.message));
    return () => {
      off();
      offFatal();
    };
  });
  return {
    get current() {
      return current;
    },
    get error() {
      return error;
    }
  };
}
