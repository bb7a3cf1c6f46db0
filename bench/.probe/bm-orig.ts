/**
 * A Map that cannot grow without limit: at most `capacity` entries (the oldest-touched go first)
 * and entries older than `ttlMs` are swept. Hook correlation state lives in these so that runs
 * whose end hook never arrives cannot leak memory in a long-lived Gateway.
 */
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, { value: V; touchedAt: number }>();
  private readonly capacity: number;
  private readonly ttlMs: number;
  private readonly onEvict: ((key: K, value: V) => void) | undefined;
  private opsSinceSweep = 0;
  evicted = 0;

  constructor(options: { capacity: number; ttlMs: number; onEvict?: (key: K, value: V) => void }) {
    this.capacity = options.capacity;
    this.ttlMs = options.ttlMs;
    this.onEvict = options.onEvict;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V, now: number = Date.now()): void {
    this.entries.delete(key);
    this.entries.set(key, { value, touchedAt: now });
    if (this.entries.size > this.capacity) this.evictOldest();
    // Sweep expired entries every so often rather than on every call (hot path).
    if (++this.opsSinceSweep >= 256) this.sweep(now);
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  values(): IterableIterator<V> {
    const iterator = this.entries.values();
    return (function* () {
      for (const entry of iterator) yield entry.value;
    })();
  }

  sweep(now: number = Date.now()): void {
    this.opsSinceSweep = 0;
    const cutoff = now - this.ttlMs;
    for (const [key, entry] of this.entries) {
      // Insertion order is touch order, so the first fresh entry ends the sweep.
      if (entry.touchedAt >= cutoff) break;
      this.entries.delete(key);
      this.evicted++;
      this.onEvict?.(key, entry.value);
    }
  }

  private evictOldest(): void {
    const first = this.entries.keys().next();
    if (first.done) return;
    const entry = this.entries.get(first.value);
    this.entries.delete(first.value);
    this.evicted++;
    if (entry) this.onEvict?.(first.value, entry.value);
  }
}
