// A seeded, single-process network for sync simulations: virtual time, an event queue, and links
// with latency, loss, duplication and reordering (random per-message latency), partitions and
// offline nodes. Handlers run one at a time, in virtual-time order, and are awaited, so a seed
// replays the same run.
import { mulberry32, type Rand } from '../helpers/fake-feed.js';

export interface LinkOptions {
  /** Probability that a message is dropped. */
  loss: number;
  /** Probability that a message is delivered twice. */
  dup: number;
  /** Per-message latency, uniform in [min, max] ms (so messages overtake each other). */
  latencyMin: number;
  latencyMax: number;
}

interface Ev {
  at: number;
  seq: number;
  fn: () => unknown;
}

export class SimNet {
  time = 0;
  readonly rand: Rand;
  private heap: Ev[] = [];
  private seq = 0;
  /** Partition group per node (nodes in different groups cannot talk); absent = group 0. */
  private readonly group = new Map<string, number>();
  readonly offline = new Set<string>();
  delivered = 0;
  dropped = 0;

  constructor(
    seed: number,
    public link: LinkOptions
  ) {
    this.rand = mulberry32(seed);
  }

  now = (): number => this.time;

  randomBytes = (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.rand() * 256);
    return out;
  };

  canTalk(a: string, b: string): boolean {
    if (this.offline.has(a) || this.offline.has(b)) return false;
    return (this.group.get(a) ?? 0) === (this.group.get(b) ?? 0);
  }

  /** Puts each listed node set in its own group (others stay in group 0). */
  partition(groups: string[][]): void {
    this.group.clear();
    groups.forEach((g, i) => g.forEach((id) => this.group.set(id, i + 1)));
  }

  heal(): void {
    this.group.clear();
  }

  schedule(delay: number, fn: () => unknown): void {
    this.push({ at: this.time + Math.max(0, delay), seq: this.seq++, fn });
  }

  /** Sends over the lossy link: maybe dropped, maybe twice, each copy with its own latency. */
  transmit(from: string, to: string, deliver: () => unknown): void {
    if (!this.canTalk(from, to) || this.rand() < this.link.loss) {
      this.dropped++;
      return;
    }
    const copies = this.rand() < this.link.dup ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const lat = this.link.latencyMin + this.rand() * (this.link.latencyMax - this.link.latencyMin);
      this.schedule(lat, () => {
        if (!this.canTalk(from, to)) return void this.dropped++;
        this.delivered++;
        return deliver();
      });
    }
  }

  /** Runs events in time order until `stop()` (checked after each event) or `maxTime`. */
  async run(stop: () => boolean | Promise<boolean>, maxTime: number): Promise<boolean> {
    while (this.heap.length > 0) {
      const ev = this.pop();
      if (ev.at > maxTime) {
        this.push(ev);
        this.time = maxTime;
        return false;
      }
      this.time = ev.at;
      await ev.fn();
      if (await stop()) return true;
    }
    return !!(await stop());
  }

  private push(ev: Ev): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): Ev {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l], h[m])) m = l;
        if (r < h.length && less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

const less = (a: Ev, b: Ev): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);
