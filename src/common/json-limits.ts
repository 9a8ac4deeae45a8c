/** How much JSON a client may send, checked before any schema sees it. */
export interface JsonLimits {
  /** Deepest nesting of objects and arrays (JSON_MAX_DEPTH). */
  maxDepth: number;
  /** Most values and object keys in all (JSON_MAX_NODES). */
  maxNodes: number;
}

/**
 * Which limit a parsed JSON value is over, if any. Depth: recursive code
 * (zod's `z.json()`, `JSON.stringify`) overflows the stack on a few
 * thousand levels, and zod keeps what it was in the middle of for ever.
 * Nodes: every later pass over the value (validation, JSON.stringify for the
 * provider) costs in proportion, synchronously. The walk keeps a stack of its
 * own, so no depth can overflow it.
 */
export function overJsonLimits(value: unknown, { maxDepth, maxNodes }: JsonLimits): 'depth' | 'nodes' | undefined {
  let nodes = 1;
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    const depth = next.depth + 1;
    if (depth > maxDepth) return 'depth';
    const isArray = Array.isArray(next.value);
    const children = isArray ? (next.value as unknown[]) : Object.values(next.value);
    nodes += isArray ? children.length : children.length * 2;
    if (nodes > maxNodes) return 'nodes';
    for (const child of children) if (typeof child === 'object' && child !== null) pending.push({ value: child, depth });
  }
  return undefined;
}
