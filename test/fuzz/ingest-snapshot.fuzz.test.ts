// Fuzzer, part 1: hostile entries through Ledger.ingest and snapshot import (see harness.ts).
import { defineFuzz } from './harness.js';

defineFuzz(['ingest', 'snapshot']);
