import { afterEach, describe, expect, it } from 'vitest';
import { createTabBroker, type TabBroker } from '../../src/lib/client/tab-broker.js';
import { parseTabMessage } from '../../src/lib/client/tab-protocol.js';
import type { NodeEvent } from '../../src/lib/worker/messages.js';
import { CuttableChannel, FAKE_STATUS, FakeLocks, FakeNode, FakeProfile } from '../helpers/fake-tabs.js';
import { pollUntil } from '../helpers/poll.js';

/** Wait until `cond` holds, polling the event loop (channel messages are async). */
const until = (cond: () => boolean, what = 'condition', ms = 2000) => pollUntil(cond, what, ms, 2);

const errorName = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'resolved',
    (e: Error) => e.name
  );

interface Tab {
  broker: TabBroker;
  channel: CuttableChannel;
  node: () => FakeNode | undefined;
}

let opened: Tab[] = [];
let profileNo = 0;

/** A browser profile: tabs share its lock, channel name and store. */
function profile(opts: { takeoverTimeoutMs?: number; acceptTimeoutMs?: number; startError?: Error } = {}) {
  const name = `tabs-test-${process.pid}-${++profileNo}`;
  const locks = new FakeLocks();
  const store = new FakeProfile();
  const open = (): Tab => {
    const channel = new CuttableChannel(name);
    let node: FakeNode | undefined;
    const broker = createTabBroker({
      channel,
      locks,
      startNode: () => (node = new FakeNode(store, opts.startError)),
      ...(opts.takeoverTimeoutMs === undefined ? {} : { takeoverTimeoutMs: opts.takeoverTimeoutMs }),
      ...(opts.acceptTimeoutMs === undefined ? {} : { acceptTimeoutMs: opts.acceptTimeoutMs })
    });
    const tab = { broker, channel, node: () => node };
    opened.push(tab);
    return tab;
  };
  /** The tab's page dies: no goodbye, its node stops answering, the browser frees its lock. */
  const crash = (tab: Tab): void => {
    tab.channel.cut = true;
    const node = tab.node();
    if (node) node.dead = true;
    locks.crashHolder();
  };
  return { locks, store, open, crash };
}

afterEach(() => {
  for (const t of opened) t.broker.close();
  opened = [];
});

describe('tab broker', () => {
  it('the first tab leads; a second tab is a full client of the same node, writes included', async () => {
    const p = profile();
    const a = p.open();
    await until(() => a.broker.role === 'leader' && a.broker.phase === 'running', 'a leads');
    const b = p.open();
    await until(() => b.broker.leaderId === a.broker.tabId, 'b follows a');
    expect(b.broker.role).toBe('follower');
    expect(b.node()).toBeUndefined();
    expect(b.broker.phase).toBe('running');
    expect(b.broker.lastStatus).toEqual(FAKE_STATUS);

    const events: NodeEvent[] = [];
    b.broker.subscribe((e) => events.push(e));
    const receipt = await b.broker.call('put', ['k', { n: 1 }]);
    expect(receipt).toMatchObject({ seq: 1 });
    expect(await a.broker.call('get', ['k'])).toEqual({ n: 1 });
    expect(await b.broker.call('records', [])).toEqual([{ key: 'k', value: { n: 1 } }]);
    await until(() => events.some((e) => e.type === 'records'), 'records event relayed to b');
    expect(p.store.nodes).toHaveLength(1);
    expect(a.node()!.calls.map((c) => c.method)).toEqual(['put', 'get', 'records']);
  });

  it('keeps error names and codes, and carries bytes both ways', async () => {
    const p = profile();
    const a = p.open();
    const b = p.open();
    await until(() => b.broker.leaderId === a.broker.tabId);
    const err = (await b.broker.call('put', ['', 1]).catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.name).toBe('InvalidRecordKeyError');
    expect(err.code).toBe('key');
    const file = (await b.broker.call('exportSnapshot', ['full'])) as { bytes: Uint8Array };
    expect(file.bytes).toBeInstanceOf(Uint8Array);
    expect([...file.bytes]).toEqual([31, 139, 8, 0, 255]);
    expect(await b.broker.call('importSnapshot', [new Uint8Array(7)])).toMatchObject({ added: 7 });
    // Arguments that cannot be cloned fail at once, in the calling tab.
    expect(await errorName(b.broker.call('put', ['f', (() => 1) as never]))).toBe('DataCloneError');
  });

  it('calls made before any tab leads wait, then run once a leader appears', async () => {
    const p = profile();
    const release = p.locks.holdExternally();
    const a = p.open();
    const put = a.broker.call('put', ['early', 1]);
    await new Promise((r) => setTimeout(r, 20));
    expect(p.store.log).toHaveLength(0);
    release();
    await expect(put).resolves.toMatchObject({ seq: 1 });
    expect(a.broker.role).toBe('leader');
  });

  it('a call that finds no leader within the bound fails with LeaderUnavailableError, unrun', async () => {
    const p = profile({ takeoverTimeoutMs: 50 });
    p.locks.holdExternally();
    const a = p.open();
    const err = (await a.broker.call('put', ['k', 1]).catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.name).toBe('LeaderUnavailableError');
    expect(err.code).toBe('leader-unavailable');
    expect(p.store.log).toHaveLength(0);
  });

  it('a call that waited for a leader is not failed by its wait bound once it runs', async () => {
    const p = profile({ takeoverTimeoutMs: 60 });
    let open!: () => void;
    p.store.hold = new Promise<void>((r) => (open = r));
    const release = p.locks.holdExternally();
    const a = p.open();
    const put = a.broker.call('put', ['slow', 1]);
    await new Promise((r) => setTimeout(r, 30));
    release();
    await until(() => a.node()?.calls.length === 1, 'the write runs on the new node');
    await new Promise((r) => setTimeout(r, 60)); // past the bound, while the node is still busy
    open();
    await expect(put).resolves.toMatchObject({ seq: 1 });
  });

  it('when the leader crashes mid-write, the write is re-sent to the next leader and not lost', async () => {
    const p = profile();
    const a = p.open();
    await until(() => a.broker.phase === 'running');
    const b = p.open();
    const c = p.open();
    await until(() => b.broker.leaderId === a.broker.tabId && c.broker.leaderId === a.broker.tabId);
    let open!: () => void;
    a.node()!.hold = new Promise<void>((r) => (open = r));
    const write = c.broker.call('put', ['inflight', 'v']);
    await until(() => a.node()!.calls.length === 1, 'a received the write');
    p.crash(a);
    // b was next in the lock queue: it starts its own node and announces itself; c re-sends.
    await expect(write).resolves.toMatchObject({ seq: 1 });
    expect(b.broker.role).toBe('leader');
    expect(c.broker.leaderId).toBe(b.broker.tabId);
    expect(p.store.records.get('inflight')).toBe('v');
    open(); // the crashed node's hold never matters: it is dead
    await until(() => c.broker.phase === 'running');
    expect(await c.broker.call('get', ['inflight'])).toBe('v');
  });

  it('a write the crashed leader had committed but not answered is re-sent as a retry of its tag: made once', async () => {
    const p = profile();
    const a = p.open();
    const b = p.open();
    await until(() => b.broker.leaderId === a.broker.tabId && a.broker.phase === 'running');
    a.node()!.dead = true; // commits, then never answers
    const write = b.broker.call('put', ['twice', 42]);
    await until(() => p.store.log.length === 1, 'a committed');
    const tag = (a.node()!.calls[0].args[2] as { tag: string }).tag;
    expect(a.node()!.calls[0].args).toEqual(['twice', 42, { tag }]); // first sent: no retry
    expect(tag.startsWith(`${b.broker.tabId}:`)).toBe(true);
    p.crash(a);
    await expect(write).resolves.toMatchObject({ seq: 1 }); // the first receipt
    expect(b.node()!.calls.at(-1)!.args).toEqual(['twice', 42, { tag, retry: true }]);
    expect(p.store.log).toEqual([{ key: 'twice', value: 42 }]);
  });

  it("a re-sent write does not land over another tab's newer write (made once, by its tag)", async () => {
    const p = profile();
    const a = p.open();
    const b = p.open();
    const c = p.open();
    await until(() => c.broker.leaderId === a.broker.tabId && a.broker.phase === 'running');
    a.node()!.dead = true;
    const stale = c.broker.call('put', ['k', 'stale']);
    await until(() => p.store.log.length === 1, 'a committed');
    // c does not hear of the takeover yet (a slow tab): b leads and writes over c's value.
    c.channel.cut = true;
    p.crash(a);
    await until(() => b.broker.role === 'leader' && b.broker.phase === 'running');
    await b.broker.call('put', ['k', 'newer']);
    c.channel.cut = false;
    b.broker.close(); // c leads now, and re-sends its own unanswered write to its own node
    await expect(stale).resolves.toMatchObject({ seq: 1 });
    expect(p.store.records.get('k')).toBe('newer');
    expect(p.store.log.map((w) => w.value)).toEqual(['stale', 'newer']);
  });

  it('a leader whose page is blocked: calls sent to it fail with LeaderUnresponsiveError, and are not run when it wakes', async () => {
    const p = profile({ acceptTimeoutMs: 100 });
    const a = p.open();
    const b = p.open();
    await until(() => b.broker.leaderId === a.broker.tabId && a.broker.phase === 'running');
    a.channel.pause(); // an alert(), a debugger, a long task: the lock stays held
    const started = Date.now();
    const write = b.broker.call('put', ['blocked', 1]);
    const read = b.broker.call('status', []);
    expect(await errorName(write)).toBe('LeaderUnresponsiveError');
    expect(await errorName(read)).toBe('LeaderUnresponsiveError');
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    a.channel.resume(); // it takes the calls now, past their deadline: refused unrun
    await until(() => a.node()!.calls.length === 0 && a.broker.role === 'leader', 'a awake');
    await expect(b.broker.call('put', ['after', 2])).resolves.toMatchObject({ seq: 1 });
    expect(p.store.log).toEqual([{ key: 'after', value: 2 }]);
    expect(a.node()!.calls.map((c) => c.method)).toEqual(['put']);
  });

  it('a call the leader took in time waits for its answer, however long the node takes', async () => {
    const p = profile({ acceptTimeoutMs: 50 });
    const a = p.open();
    const b = p.open();
    await until(() => b.broker.leaderId === a.broker.tabId && a.broker.phase === 'running');
    let open!: () => void;
    a.node()!.hold = new Promise<void>((r) => (open = r));
    const write = b.broker.call('put', ['slow', 1]);
    await until(() => a.node()!.calls.length === 1, 'a took it');
    await new Promise((r) => setTimeout(r, 300)); // well past the accept bound and its grace
    open();
    await expect(write).resolves.toMatchObject({ seq: 1 });
  });

  it('close() in the leader stops its node and hands over; its unanswered calls from others are re-run', async () => {
    const p = profile();
    const a = p.open();
    await until(() => a.broker.phase === 'running');
    const b = p.open();
    await until(() => b.broker.leaderId === a.broker.tabId);
    let open!: () => void;
    a.node()!.hold = new Promise<void>((r) => (open = r));
    const fromB = b.broker.call('put', ['handover', 1]);
    const fromA = a.broker.call('put', ['own', 2]);
    await until(() => a.node()!.calls.length === 2);
    a.broker.close();
    expect(a.node()!.stopped).toBe(true);
    expect(await errorName(fromA)).toBe('ClientClosedError');
    expect(await errorName(a.broker.call('status', []))).toBe('ClientClosedError');
    await expect(fromB).resolves.toMatchObject({ seq: 1 });
    expect(b.broker.role).toBe('leader');
    open(); // the stopped node's write now commits too: a re-run of the same value (documented)
    await until(() => p.store.log.length === 3);
    expect(p.store.log.filter((e) => e.key === 'handover')).toHaveLength(2);
    expect(p.store.records.get('handover')).toBe(1);
  });

  it('phases and events follow the takeover: starting, then running again', async () => {
    const p = profile();
    const a = p.open();
    const b = p.open();
    await until(() => b.broker.leaderId === a.broker.tabId && b.broker.phase === 'running');
    const c = p.open();
    await until(() => c.broker.leaderId === a.broker.tabId);
    const phases: string[] = [];
    c.broker.subscribe((e) => e.type === 'phase' && phases.push(e.phase));
    p.crash(a);
    await until(() => c.broker.leaderId === b.broker.tabId && c.broker.phase === 'running', 'c follows b');
    expect(phases).toEqual(['running', 'starting', 'running']);
  });

  it('a closed follower leaves the lock queue and never starts a node', async () => {
    const p = profile();
    const a = p.open();
    const b = p.open();
    await until(() => b.broker.leaderId === a.broker.tabId);
    b.broker.close();
    const c = p.open();
    await until(() => c.broker.leaderId === a.broker.tabId);
    p.crash(a);
    await until(() => c.broker.role === 'leader', 'c leads');
    expect(b.broker.role).toBe('closed');
    expect(b.node()).toBeUndefined();
  });

  it('a node that fails to start fails every tab, with its error', async () => {
    const boom = Object.assign(new Error('store is corrupt'), { name: 'CorruptStoreError' });
    const p = profile({ startError: boom });
    const a = p.open();
    const fatalA: Error[] = [];
    a.broker.onFatal((e) => fatalA.push(e));
    await until(() => fatalA.length === 1);
    const b = p.open();
    const fatalB: Error[] = [];
    b.broker.onFatal((e) => fatalB.push(e));
    await until(() => fatalB.length === 1, 'b told of the fatal error');
    expect(fatalB[0]!.name).toBe('CorruptStoreError');
    expect(await errorName(b.broker.call('records', []))).toBe('CorruptStoreError');
  });

  it('ignores messages that are not tab messages', () => {
    expect(parseTabMessage(null)).toBeUndefined();
    expect(parseTabMessage({ t: 'hello' })).toBeUndefined();
    expect(parseTabMessage({ t: 'hello', from: 'x'.repeat(65) })).toBeUndefined();
    expect(
      parseTabMessage({ t: 'call', from: 'a', to: 'b', id: '1', method: 'constructor', args: [] })
    ).toBeUndefined();
    expect(parseTabMessage({ t: 'call', from: 'a', to: 'b', id: '1', method: 'put', args: 'k' })).toBeUndefined();
    expect(parseTabMessage({ t: 'result', from: 'a', to: 'b', id: '1', ok: false })).toBeUndefined();
    // A call from a tab of an earlier build has no deadline: taken as such.
    expect(parseTabMessage({ t: 'call', from: 'a', to: 'b', id: '1', method: 'put', args: ['k', 1] })).toBeDefined();
    const bad = { t: 'call', from: 'a', to: 'b', id: '1', method: 'put', args: ['k', 1], deadline: 'soon' };
    expect(parseTabMessage(bad)).toBeUndefined();
    const call = { t: 'call', from: 'a', to: 'b', id: '1', method: 'put', args: ['k', 1], deadline: 1 };
    expect(parseTabMessage(call)).toBeDefined();
    expect(parseTabMessage({ t: 'accepted', from: 'a', to: 'b', id: '1' })).toBeDefined();
    expect(parseTabMessage({ t: 'accepted', from: 'a', id: '1' })).toBeUndefined();
  });
});
