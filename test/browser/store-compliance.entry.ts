// The LedgerStore compliance suite against Dexie on Chromium's real IndexedDB (strict durability,
// real quota errors' shape), the same suite the Node tests run on fake-indexeddb.
import { DexieLedgerStore } from '../../src/lib/platform/dexie-store.js';
import { faultAddon, type DexieFaultPlan } from '../helpers/dexie-faults.js';
import { runStoreCompliance, type StoreHarness } from '../helpers/store-compliance.js';
import { runAll, type CaseResult } from './mini-runner.js';

declare global {
  interface Window {
    complianceResults?: CaseResult[];
  }
}

let dbs = 0;
const run = `${Date.now()}`;

runStoreCompliance('dexie (Chromium IndexedDB)', async (): Promise<StoreHarness> => {
  const name = `tabula-compliance-${run}-${++dbs}`;
  const plan: DexieFaultPlan = {};
  return {
    open: () => DexieLedgerStore.open({ name, addons: [faultAddon(plan)] }),
    failNextWriteTo: (table) => void (plan.failOnTable = table)
  };
});

runAll().then((results) => {
  window.complianceResults = results;
  document.body.textContent = results.map((r) => `${r.ok ? 'PASS' : 'FAIL'} ${r.name} ${r.error ?? ''}`).join('\n');
});
