/**
 * How deeply a parsed JSON value nests, checked before any schema sees it:
 * recursive validators (zod's `z.json()`) and `JSON.stringify` overflow the
 * stack on a few thousand levels, and zod keeps what it was in the middle of
 * for ever. The walk itself keeps its own stack, so no depth can overflow it.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    const depth = next.depth + 1;
    if (depth > maxDepth) return true;
    const children = Array.isArray(next.value) ? next.value : Object.values(next.value);
    for (const child of children) if (typeof child === 'object' && child !== null) pending.push({ value: child, depth });
  }
  return false;
}
