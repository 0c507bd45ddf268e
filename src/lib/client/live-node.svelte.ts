// A reactive view of the node for Svelte components: phase, status, records and conflicts.
import { getClient } from './index.js';
import type { Conflict, NodePhase, NodeStatus, RecordEntry } from '../worker/messages.js';

export interface LiveNode {
  readonly phase: NodePhase;
  readonly status: NodeStatus | undefined;
  readonly records: RecordEntry[];
  readonly conflicts: Conflict[];
  readonly error: string | undefined;
}

export function liveNode(): LiveNode {
  let phase = $state<NodePhase>('starting');
  let status = $state<NodeStatus | undefined>(undefined);
  let records = $state<RecordEntry[]>([]);
  let conflicts = $state<Conflict[]>([]);
  let error = $state<string | undefined>(undefined);

  $effect(() => {
    const client = getClient();
    let refreshing: Promise<void> | undefined;
    let conflictEvents = 0;
    let again = false;
    // Change events say what changed; re-reading the list keeps one source of truth.
    const refresh = (): void => {
      if (refreshing !== undefined) {
        again = true;
        return;
      }
      const seen = conflictEvents;
      refreshing = Promise.all([client.records(), client.conflicts()])
        .then(([r, c]) => {
          records = r;
          // A conflicts event that arrived meanwhile is newer than this read.
          if (conflictEvents === seen) conflicts = c;
        })
        .catch((e: unknown) => {
          error = e instanceof Error ? e.message : String(e);
        })
        .finally(() => {
          refreshing = undefined;
          if (again) {
            again = false;
            refresh();
          }
        });
    };
    const off = client.subscribe((ev) => {
      if (ev.type === 'phase') {
        phase = ev.phase;
        if (ev.phase === 'running') refresh();
      } else if (ev.type === 'status') status = ev.status;
      else if (ev.type === 'records') refresh();
      else if (ev.type === 'conflicts') {
        conflictEvents++;
        conflicts = ev.conflicts;
      }
    });
    const offFatal = client.onFatal((e) => (error = `${e.name}: ${e.message}`));
    return () => {
      off();
      offFatal();
    };
  });

  return {
    get phase() {
      return phase;
    },
    get status() {
      return status;
    },
    get records() {
      return records;
    },
    get conflicts() {
      return conflicts;
    },
    get error() {
      return error;
    }
  };
}
