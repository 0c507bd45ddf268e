// Fuzzer, part 2: hostile entries through the gossip topic validator, and convergence of two
// ledgers fed the same accepted entries in any order (see harness.ts).
import { defineFuzz } from './harness.js';

defineFuzz(['gossip', 'converge', 'order']);
