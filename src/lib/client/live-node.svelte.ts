// A reactive view of the node for Svelte components: phase, status, records and conflicts.
import { getClient } from './index.js';
import { reuseUnchanged } from './records-reuse.js';
import type { Conflict, NodePhase, NodeStatus, RecordEntry } from '../worker/messages.js';

export interface LiveNode {
  readonly phase: NodePhase;
  readonly status: NodeStatus | undefined;
  readonly records: RecordEntry[];
  readonly conflicts: Conflict[];
  readonly error: string | undefined;
}

/**
 * Records are re-read at most this often, ms. Each read copies the whole list from the worker and
 * re-renders the table; re-reading after every change while writes flow took half of the page's
 * main thread (bench/browser profile of window.tabula.put) and made long tasks.
 */
export const RECORDS_REFRESH_MIN_MS = 250;

/**
 * Records read and shown at most (the first by key). Copying every record from the worker on each
 * re-read made main-thread long tasks of up to 0.65 s at 100k records (deserializing the list
 * and collecting it, bench row 7); re-rendering thousands of rows kept the main thread over half
 * busy under S10's load. The count of all records comes with the status (`ledger.records`).
 */
export const RECORDS_SHOWN = 500;

export function liveNode(): LiveNode {
  let phase = $state<NodePhase>('starting');
  let status = $state<NodeStatus | undefined>(undefined);
  // Raw: rows are replaced, never mutated; unchanged ones keep their object (records-reuse.ts).
  let records = $state.raw<RecordEntry[]>([]);
  let conflicts = $state<Conflict[]>([]);
  let error = $state<string | undefined>(undefined);

  $effect(() => {
    const client = getClient();
    let refreshing: Promise<void> | undefined;
    let conflictEvents = 0;
    let again = false;
    let lastStart = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Change events say what changed; re-reading the list keeps one source of truth.
    const refresh = (): void => {
      if (timer !== undefined) return; // a re-read is already scheduled
      if (refreshing !== undefined) {
        again = true;
        return;
      }
      const wait = lastStart + RECORDS_REFRESH_MIN_MS - Date.now();
      if (wait > 0) {
        timer = setTimeout(() => {
          timer = undefined;
          refresh();
        }, wait);
        return;
      }
      lastStart = Date.now();
      const seen = conflictEvents;
      refreshing = Promise.all([client.records(RECORDS_SHOWN), client.conflicts()])
        .then(([r, c]) => {
          records = reuseUnchanged(records, r);
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
      clearTimeout(timer);
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
