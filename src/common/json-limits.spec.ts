import fc from 'fast-check';
import { overJsonLimits } from './json-limits.js';

const nested = (depth: number): unknown => JSON.parse(`${'['.repeat(depth)}0${']'.repeat(depth)}`);
const loose = { maxDepth: 1000, maxNodes: 1e9 };

/** Depth and nodes by recursion: the definitions the walk must agree with. */
const depthOf = (value: unknown): number =>
  typeof value !== 'object' || value === null ? 0 : 1 + Math.max(0, ...Object.values(value).map(depthOf));
const nodesOf = (value: unknown): number =>
  typeof value !== 'object' || value === null
    ? 1
    : 1 + Object.values(value).reduce((sum: number, child) => sum + nodesOf(child), Array.isArray(value) ? 0 : Object.keys(value).length);

describe('overJsonLimits', () => {
  it('counts the depth of objects and arrays, not of scalars', () => {
    expect(overJsonLimits(7, { ...loose, maxDepth: 0 })).toBeUndefined();
    expect(overJsonLimits({}, { ...loose, maxDepth: 0 })).toBe('depth');
    expect(overJsonLimits({ a: [1, { b: 'x' }] }, { ...loose, maxDepth: 3 })).toBeUndefined();
    expect(overJsonLimits({ a: [1, { b: 'x' }] }, { ...loose, maxDepth: 2 })).toBe('depth');
  });

  it('counts values and keys', () => {
    // The object, its key "a", the array, 1, the inner object, its key "b", "x".
    expect(overJsonLimits({ a: [1, { b: 'x' }] }, { ...loose, maxNodes: 7 })).toBeUndefined();
    expect(overJsonLimits({ a: [1, { b: 'x' }] }, { ...loose, maxNodes: 6 })).toBe('nodes');
  });

  it('walks a value far deeper than the stack would allow', () => {
    expect(overJsonLimits(nested(200_000), { ...loose, maxDepth: 64 })).toBe('depth');
    expect(overJsonLimits(nested(64), { ...loose, maxDepth: 64 })).toBeUndefined();
  });

  it('agrees with the recursive definitions on any JSON value', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 8 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 1, max: 60 }),
        (value, maxDepth, maxNodes) => {
          const over = overJsonLimits(value, { maxDepth, maxNodes });
          const expected = depthOf(value) > maxDepth || nodesOf(value) > maxNodes;
          expect(over !== undefined).toBe(expected);
        },
      ),
    );
  });
});
