// BoundedMap keeps its oldest-entry lookups O(1) (kept iterator, refresh of the newest entry in
// place); observable behaviour must stay exactly that of the plain delete-and-reinsert Map it
// started as: the reference below. Random operation sequences with a fake clock, compared step
// by step (values, sizes, iteration order, evictions and the order of onEvict calls).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BoundedMap } from "../../src/trace/bounded-map.ts";

class ReferenceBoundedMap<K, V> {
  private readonly entries = new Map<K, { value: V; touchedAt: number }>();
  private opsSinceSweep = 0;
  evicted = 0;
  private readonly options: { capacity: number; ttlMs: number; onEvict?: (key: K, value: V) => void };
  constructor(options: { capacity: number; ttlMs: number; onEvict?: (key: K, value: V) => void }) {
    this.options = options;
  }
  get size() {
    return this.entries.size;
  }
  get(key: K) {
    return this.entries.get(key)?.value;
  }
  has(key: K) {
    return this.entries.has(key);
  }
  set(key: K, value: V, now: number) {
    this.entries.delete(key);
    this.entries.set(key, { value, touchedAt: now });
    if (this.entries.size > this.options.capacity) {
      const first = this.entries.keys().next();
      if (!first.done) {
        const entry = this.entries.get(first.value)!;
        this.entries.delete(first.value);
        this.evicted++;
        this.options.onEvict?.(first.value, entry.value);
      }
    }
    if (++this.opsSinceSweep >= 256) this.sweep(now);
  }
  delete(key: K) {
    return this.entries.delete(key);
  }
  values() {
    return [...this.entries.values()].map((entry) => entry.value);
  }
  sweep(now: number) {
    this.opsSinceSweep = 0;
    for (const [key, entry] of this.entries) {
      if (entry.touchedAt >= now - this.options.ttlMs) break;
      this.entries.delete(key);
      this.evicted++;
      this.options.onEvict?.(key, entry.value);
    }
  }
}

type Op =
  | { kind: "set"; key: number; value: number; dt: number }
  | { kind: "delete"; key: number }
  | { kind: "get"; key: number }
  | { kind: "sweep"; dt: number };

const op = (keys: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant("set" as const), key: fc.nat(keys - 1), value: fc.nat(), dt: fc.nat(40) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("delete" as const), key: fc.nat(keys - 1) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("get" as const), key: fc.nat(keys - 1) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("sweep" as const), dt: fc.nat(200) }) },
  );

describe("BoundedMap against the plain delete-and-reinsert reference", () => {
  it("behaves identically under random sets, refreshes, deletes, evictions and TTL sweeps", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 400 }), fc.array(op(24), { maxLength: 1_500 }), (capacity, ttlMs, ops) => {
        const evictedA: unknown[] = [];
        const evictedB: unknown[] = [];
        const a = new BoundedMap<number, number>({ capacity, ttlMs, onEvict: (k, v) => evictedA.push([k, v]) });
        const b = new ReferenceBoundedMap<number, number>({ capacity, ttlMs, onEvict: (k, v) => evictedB.push([k, v]) });
        let now = 1_000;
        for (const o of ops) {
          if (o.kind === "set") {
            now += o.dt;
            a.set(o.key, o.value, now);
            b.set(o.key, o.value, now);
          } else if (o.kind === "delete") {
            expect(a.delete(o.key)).toBe(b.delete(o.key));
          } else if (o.kind === "get") {
            expect(a.get(o.key)).toBe(b.get(o.key));
            expect(a.has(o.key)).toBe(b.has(o.key));
          } else {
            now += o.dt;
            a.sweep(now);
            b.sweep(now);
          }
          expect(a.size).toBe(b.size);
        }
        expect([...a.values()]).toEqual(b.values());
        expect(evictedA).toEqual(evictedB);
        expect(a.evicted).toBe(b.evicted);
      }),
      { numRuns: 400 },
    );
  });

  it("stays identical across thousands of evictions of a large map (V8 rehashes its table meanwhile)", () => {
    const evictedA: string[] = [];
    const evictedB: string[] = [];
    const a = new BoundedMap<string, number>({ capacity: 5_000, ttlMs: 50_000, onEvict: (k) => evictedA.push(k) });
    const b = new ReferenceBoundedMap<string, number>({ capacity: 5_000, ttlMs: 50_000, onEvict: (k) => evictedB.push(k) });
    let now = 0;
    for (let i = 0; i < 60_000; i++) {
      now += i % 3;
      const key = i % 11 === 0 ? `k${i - 4_000}` : `k${i}`; // some refreshes of older keys
      a.set(key, i, now);
      b.set(key, i, now);
      if (i % 13 === 0) {
        a.delete(`k${i - 2_000}`);
        b.delete(`k${i - 2_000}`);
      }
    }
    expect(a.size).toBe(b.size);
    expect([...a.values()]).toEqual(b.values());
    expect(evictedA).toEqual(evictedB);
  });
});
