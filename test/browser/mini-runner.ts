// Just enough of vitest's test API to run a shared suite in a real browser page: tests are
// collected, then run in order; afterEach hooks run after every test.
import { chai, JestAsymmetricMatchers, JestChaiExpect, JestExtend } from '@vitest/expect';

// vitest's own `expect` is chai with its Jest-style plugins; build the same here.
chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);
export const expect = chai.expect as unknown as typeof import('vitest').expect;

type Fn = () => unknown | Promise<unknown>;
interface Case {
  name: string;
  fn: Fn;
  after: Fn[];
}

const cases: Case[] = [];
const prefix: string[] = [];
const afterStack: Fn[][] = [[]];

export function describe(name: string, body: () => void): void {
  prefix.push(name);
  afterStack.push([]);
  body();
  afterStack.pop();
  prefix.pop();
}

export function it(name: string, fn: Fn): void {
  // Hooks are read when the test runs, so ones registered after it in the same describe count.
  const scopes = afterStack.slice();
  cases.push({
    name: [...prefix, name].join(' > '),
    fn,
    get after() {
      return scopes.flat();
    }
  });
}
export const test = it;

export function afterEach(fn: Fn): void {
  afterStack[afterStack.length - 1].push(fn);
}

export interface CaseResult {
  name: string;
  ok: boolean;
  error?: string;
}

export async function runAll(): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of cases) {
    let error: string | undefined;
    try {
      await c.fn();
    } catch (e) {
      error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    for (const hook of c.after) {
      try {
        await hook();
      } catch (e) {
        error ??= `afterEach: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    results.push({ name: c.name, ok: error === undefined, ...(error ? { error } : {}) });
  }
  return results;
}
