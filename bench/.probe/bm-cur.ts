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
  /**
   * Iterator kept across evictions. V8 leaves deleted entries as holes at the front of a Map's
   * table until it is rehashed, and a fresh `keys().next()` walks over all of them: evicting the
   * oldest entry of a full 50,000-entry map that way cost ~30 µs per insert. Map iterators are
   * live, and every entry this map holds sits after the last one evicted (inserts and refreshes
   * append at the end), so the kept iterator's next key is always the oldest entry.
   */
  private oldest: Iterator<K> | undefined;
  /** The entry of the latest `set`: it is still the newest while the map holds it. */
  private newestKey: K | undefined;
  private newestEntry: { value: V; touchedAt: number } | undefined;
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
    const newest = this.newestEntry;
    if (newest !== undefined && key === this.newestKey && this.entries.get(key) === newest) {
      // Refreshing the newest entry (every hook of a run refreshes it): it already sits last in
      // touch order, so update it where it is instead of deleting and re-inserting it.
      newest.value = value;
      newest.touchedAt = now;
    } else {
      const entry = { value, touchedAt: now };
      this.entries.delete(key);
      this.entries.set(key, entry);
      this.newestKey = key;
      this.newestEntry = entry;
      if (this.entries.size > this.capacity) this.evictOldest();
    }
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
    // Drop the kept iterator now and then, so it never pins a table V8 has since replaced.
    this.oldest = undefined;
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
    let first = this.oldest?.next();
    if (first === undefined || first.done) {
      this.oldest = this.entries.keys();
      first = this.oldest.next();
    }
    if (first.done) return;
    const entry = this.entries.get(first.value);
    this.entries.delete(first.value);
    this.evicted++;
    if (entry) this.onEvict?.(first.value, entry.value);
  }
}
