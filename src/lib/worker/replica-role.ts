// The replica role a browser node runs with (README "Roles and storage budget"): a visitor is a
// light replica by default; `?role=full` in the page address keeps every entry, and
// `?budget=N` sets a light replica's budget for stored entries to N MiB.
import type { ReplicaRole } from '../core/light-budget.js';

/** Largest budget accepted from a page address, MiB. */
export const MAX_BUDGET_MIB = 64 * 1024;

export interface RoleConfig {
  role?: ReplicaRole;
  /** Light replicas: budget for stored entries, MiB. */
  budgetMiB?: number;
}

/** Role and budget from a page's query string; fields absent when not given or out of range. */
export function roleFromQuery(search: string): RoleConfig {
  const q = new URLSearchParams(search);
  const out: RoleConfig = {};
  const role = q.get('role');
  if (role === 'full' || role === 'light') out.role = role;
  const budget = q.get('budget');
  if (budget !== null && /^\d+$/.test(budget)) {
    const n = Number(budget);
    if (n >= 1 && n <= MAX_BUDGET_MIB) out.budgetMiB = n;
  }
  return out;
}
