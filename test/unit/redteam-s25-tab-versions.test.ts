// Break-it review (2026-12-04): tab protocol across app versions, and accept-bound edges.
import { afterEach, describe, expect, it } from 'vitest';
import { createTabBroker, type TabBroker } from '../../src/lib/client/tab-broker.js';
import { CuttableChannel, FakeLocks, FakeNode, FakeProfile } from '../helpers/fake-tabs.js';
import { pollUntil } from '../helpers/poll.js';

const until = (cond: () => boolean, what = 'condition', ms = 2000) => pollUntil(cond, what, ms, 2);
let brokers: TabBroker[] = [];
let chans: BroadcastChannel[] = [];
afterEach(() => {
  for (const b of brokers) b.close();
  for (const c of chans) c.close();
  brokers = [];
  chans = [];
});
let n = 0;

describe('s25b tab protocol', () => {
  it('a call from a tab of the previous build (no deadline) to a leader of this build is answered', async () => {
    const name = `redteam-s25-${process.pid}-${++n}`;
    const store = new FakeProfile();
    const leader = createTabBroker({
      channel: new CuttableChannel(name),
      locks: new FakeLocks(),
      startNode: () => new FakeNode(store)
    });
    brokers.push(leader);
    await until(() => leader.role === 'leader' && leader.phase === 'running');
    const old = new BroadcastChannel(name); // the previous build's follower, same channel name
    chans.push(old);
    const heard: unknown[] = [];
    old.onmessage = (ev) => heard.push(ev.data);
    old.postMessage({ t: 'call', id: 'old-tab:1', from: 'old-tab', to: leader.tabId, method: 'put', args: ['k', 1] });
    await new Promise((r) => setTimeout(r, 500));
    const answers = heard.filter((m) => (m as { id?: string }).id === 'old-tab:1');
    console.log('answers to an old-build call:', JSON.stringify(answers), 'stored:', store.records.get('k'));
    expect(answers.length).toBeGreaterThan(0);
  });

  it('a follower of this build calling a leader of the previous build (no accepted message): a slow call that ran', async () => {
    const name = `redteam-s25-${process.pid}-${++n}`;
    const old = new BroadcastChannel(name); // previous build's leader: answers after 1.5 s, never posts "accepted"
    chans.push(old);
    old.onmessage = (ev) => {
      const m = ev.data as { t: string; id: string; from: string };
      if (m.t === 'hello') old.postMessage({ t: 'leader', from: 'old-leader', phase: 'running' });
      if (m.t === 'call')
        setTimeout(
          () => old.postMessage({ t: 'result', id: m.id, from: 'old-leader', to: m.from, ok: true, value: { seq: 7 } }),
          1500
        );
    };
    const locks = new FakeLocks();
    locks.holdExternally();
    const f = createTabBroker({
      channel: new CuttableChannel(name),
      locks,
      startNode: () => new FakeNode(new FakeProfile()),
      acceptTimeoutMs: 100 // stands for 10 s; the old leader's call (an import) takes longer
    });
    brokers.push(f);
    await until(() => f.leaderId === 'old-leader');
    const r = await f.call('importSnapshot', [new Uint8Array(4)]).then(
      (v) => `ok ${JSON.stringify(v)}`,
      (e: Error) => `err ${e.name}`
    );
    console.log('new follower -> old leader, slow call:', r);
    expect(r).toMatch(/^ok/);
  });
});
