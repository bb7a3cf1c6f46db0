import { describe, expect, it } from "vitest";
import { BoundedQueue } from "../../src/relay/queue.ts";

describe("BoundedQueue", () => {
  it("refuses items beyond its capacity", () => {
    const queue = new BoundedQueue<number>(3);
    expect([1, 2, 3, 4].map((n) => queue.push(n))).toEqual([true, true, true, false]);
    expect(queue.size).toBe(3);
    expect(queue.shift()).toBe(1);
    expect(queue.push(5)).toBe(true);
    expect(queue.push(6)).toBe(false);
  });

  it("is FIFO across compactions", () => {
    const queue = new BoundedQueue<number>(10_000);
    const out: number[] = [];
    let next = 0;
    let refused = 0;
    // Interleave pushes and shifts so the read index crosses the compaction threshold many times.
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 3000; i++) {
        if (queue.push(next)) next++;
        else refused++;
      }
      for (let i = 0; i < 2500; i++) out.push(queue.shift() as number);
    }
    while (queue.size > 0) out.push(queue.shift() as number);
    expect(refused).toBeGreaterThan(0); // it filled up to capacity on the way
    expect(out.length).toBe(next);
    expect(out.every((n, i) => n === i)).toBe(true);
    expect(queue.shift()).toBeUndefined();
    expect(queue.peek()).toBeUndefined();
  });

  it("peeks without removing and clears", () => {
    const queue = new BoundedQueue<string>(2);
    queue.push("a");
    expect(queue.peek()).toBe("a");
    expect(queue.size).toBe(1);
    queue.clear();
    expect(queue.size).toBe(0);
    expect(queue.push("b")).toBe(true);
    expect(queue.shift()).toBe("b");
  });
});
