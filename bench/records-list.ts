// Records.list(500), what a page re-reads every 250 ms while records change, during a catch-up
// of one-key entries: 40,000 records held, then 20,000 new keys from a peer in batches of 50,
// listing after every 250. Ours (the key index of state/sorted-keys.ts, a B+ tree kept as keys
// change) against the comparator of sorting every visible key and reading the first 500 (what
// list() did before it kept an index), timed in the same process, alternating. The time to apply
// the batches (Yjs, and ours keeping its index) is printed beside them.
// Run: npx tsx bench/records-list.ts [records]
import { TestNode, authorKey, type Logged } from '../test/helpers/ledger-state.js';
import { compareKeys } from '../src/lib/core/state/conflicts.js';

const RECORDS = Number(process.argv[2] ?? 40_000);
const ARRIVING = 20_000;
const BATCH = 50;
const LIST_EVERY = 250;
const LIMIT = 500;

const b = new TestNode(authorKey('b'));
const arriving: Logged[] = [];
for (let i = 0; i < ARRIVING; i++) arriving.push(b.put(`t1-${i}`, i));

/** ms per list and per applied LIST_EVERY keys, with `list` reading the first LIMIT records. */
function round(list: (n: TestNode) => void): { listMs: number; applyMs: number } {
  const a = new TestNode(authorKey('a'));
  for (let i = 0; i < RECORDS; i++) a.put(`t0-${i}`, i);
  list(a);
  let listMs = 0;
  let applyMs = 0;
  let lists = 0;
  for (let i = 0; i < arriving.length; i += LIST_EVERY) {
    const t0 = performance.now();
    for (let j = i; j < i + LIST_EVERY; j += BATCH)
      a.state.transactRemote(() => {
        for (const l of arriving.slice(j, j + BATCH)) a.receive(l);
      });
    const t1 = performance.now();
    list(a);
    listMs += performance.now() - t1;
    applyMs += t1 - t0;
    lists++;
  }
  return { listMs: listMs / lists, applyMs: applyMs / lists };
}

const ours = (n: TestNode): void => void n.records.list(LIMIT);
const sortAll = (n: TestNode): void => {
  const keys = [...n.records.map.keys()].filter((k) => n.records.entry(k) !== undefined).sort(compareKeys);
  for (const k of keys.slice(0, LIMIT)) n.records.get(k);
};
const runs = { ours: [] as number[], sort: [] as number[], oursApply: [] as number[], sortApply: [] as number[] };
for (const [name, fn] of [
  ['ours', ours],
  ['sort', sortAll],
  ['sort', sortAll],
  ['ours', ours]
] as const) {
  const r = round(fn);
  runs[name].push(r.listMs);
  runs[name === 'ours' ? 'oursApply' : 'sortApply'].push(r.applyMs);
}
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
console.log(
  `Records.list(${LIMIT}) after each ${LIST_EVERY} of ${ARRIVING} arriving keys over ${RECORDS} records: ` +
    `${mean(runs.ours).toFixed(2)} ms a call with the key index vs ${mean(runs.sort).toFixed(2)} ms sorting every key = ` +
    `${(mean(runs.sort) / mean(runs.ours)).toFixed(1)}× (applying ${LIST_EVERY} keys: ${mean(runs.oursApply).toFixed(2)} vs ` +
    `${mean(runs.sortApply).toFixed(2)} ms, the index kept in the first)`
);
