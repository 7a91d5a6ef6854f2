import { describe, expect, it } from 'vitest';
import { toJson, toJsonObject } from './canonical-json.js';

const viaText = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
}

describe('toJson', () => {
  it('gives exactly what JSON.stringify then JSON.parse gives, whichever path it takes', () => {
    const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
    const withGetter = {
      get g() {
        return 7;
      },
    };
    const inputs: unknown[] = [
      { type: 'order.intent', clientOrderId: 'bn-1', qty: 0.001, px: 64_000.5, ok: true, none: null },
      { nested: { deep: [1, 'two', { three: 3 }], empty: {} }, list: [] },
      { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, negZero: -0, arr: [Number.NaN, -0, -1.5] },
      { dropped: undefined, fn: () => 1, sym: Symbol('s'), kept: 'k' },
      [undefined, () => 1, Symbol('s'), 1],
      // biome-ignore lint/suspicious/noSparseArray: a hole is exactly what is being checked
      [1, , 3],
      { 2: 'b', 1: 'a', z: 'z', y: 'y' },
      { at: new Date(0), when: [new Date(1)] },
      { point: new Point(1, 2), map: new Map([[1, 2]]), set: new Set([1]) },
      { boxed: Object(1), str: Object('s') },
      { toJSON: () => ({ replaced: true }) },
      JSON.parse('{"__proto__": {"polluted": true}, "x": 1}'),
      { nullProto },
      withGetter,
      'text',
      42,
      null,
      true,
    ];
    for (const input of inputs) expect(toJson(input, 'value')).toStrictEqual(viaText(input));
    expect(Object.keys(toJson({ 2: 'b', 1: 'a', z: 'z', y: 'y' }, 'value') as object)).toEqual(['1', '2', 'z', 'y']);
    expect(Object.is((toJson({ v: -0 }, 'value') as { v: number }).v, 0)).toBe(true);
  });

  it('returns a copy that shares nothing with its input', () => {
    const input = { a: { b: [1, { c: 2 }] } };
    const copy = toJson(input, 'value') as typeof input;
    expect(copy).toEqual(input);
    expect(copy.a).not.toBe(input.a);
    expect(copy.a.b).not.toBe(input.a.b);
    expect(copy.a.b[1]).not.toBe(input.a.b[1]);
  });

  it('keeps an own __proto__ member as data, not as the prototype', () => {
    const copy = toJson(JSON.parse('{"__proto__": {"polluted": true}}'), 'value') as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('copies structures deeper than the one-pass limit through the text path', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 200; i++) deep = { d: deep };
    expect(toJson(deep, 'value')).toStrictEqual(viaText(deep));
  });

  it('refuses what JSON cannot hold with VALIDATION_FAILED', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const cyclicArray: unknown[] = [];
    cyclicArray.push(cyclicArray);
    const throwing = {
      get bad(): never {
        throw new Error('getter failed');
      },
    };
    for (const input of [cyclic, cyclicArray, { n: 1n }, [1n], throwing, undefined, () => 1, Symbol('s')])
      expect(() => toJson(input, 'value')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    expect(() => toJson(revoked.proxy, 'value')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});

describe('toJsonObject', () => {
  it('accepts only what becomes a JSON object', () => {
    expect(toJsonObject({ a: 1, at: new Date(0) }, 'record')).toEqual({ a: 1, at: '1970-01-01T00:00:00.000Z' });
    for (const input of [[1], 'x', 1, null, { toJSON: () => 'text' }])
      expect(() => toJsonObject(input, 'record')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
