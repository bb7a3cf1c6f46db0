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
  private readonly keepAlive: ((value: V) => boolean) | undefined;
  private opsSinceSweep = 0;
  /**
   * The oldest entry, found through an iterator kept across calls. V8 leaves deleted entries as
   * holes at the front of a Map's table until it rehashes it, and a fresh iterator walks over all
   * of them: finding the oldest entry of a full 50,000-entry map that way cost ~30 µs, on every
   * insert (eviction) and every 256th (TTL sweep). Map iterators are live and entries are only
   * ever appended (inserts and refreshes go last), so the kept iterator's next entry is always the
   * oldest one after `peeked`, which is re-validated by identity before use.
   */
  private oldest: Iterator<[K, { value: V; touchedAt: number }]> | undefined;
  private peeked: [K, { value: V; touchedAt: number }] | undefined;
  /** Whether `oldest` moved since the last sweep; an idle one is dropped so it pins no old table. */
  private advanced = false;
  /** The entry of the latest `set`: it is still the newest while the map holds it. */
  private newestKey: K | undefined;
  private newestEntry: { value: V; touchedAt: number } | undefined;
  evicted = 0;

  /**
   * `keepAlive`: an expired entry it returns true for is refreshed instead of swept (something in it
   * is still going on); capacity eviction ignores it, so the map stays bounded.
   */
  constructor(options: { capacity: number; ttlMs: number; onEvict?: (key: K, value: V) => void; keepAlive?: (value: V) => boolean }) {
    this.capacity = options.capacity;
    this.ttlMs = options.ttlMs;
    this.onEvict = options.onEvict;
    this.keepAlive = options.keepAlive;
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
      this.append(key, { value, touchedAt: now });
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
    if (!this.advanced) this.oldest = undefined;
    this.advanced = false;
    const cutoff = now - this.ttlMs;
    for (;;) {
      const oldest = this.peekOldest();
      // Touch order is insertion order, so the first fresh entry ends the sweep.
      if (oldest === undefined || oldest[1].touchedAt >= cutoff) break;
      if (this.keepAlive?.(oldest[1].value)) {
        // Refreshed: moved to the end of the touch order, so the sweep goes on with the next one.
        this.peeked = undefined;
        oldest[1].touchedAt = now;
        this.append(oldest[0], oldest[1]);
        continue;
      }
      this.remove(oldest);
    }
  }

  /** Puts `entry` last in touch order (the newest). */
  private append(key: K, entry: { value: V; touchedAt: number }): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.newestKey = key;
    this.newestEntry = entry;
  }

  private evictOldest(): void {
    const oldest = this.peekOldest();
    if (oldest !== undefined) this.remove(oldest);
  }

  private remove([key, entry]: [K, { value: V; touchedAt: number }]): void {
    this.peeked = undefined;
    this.entries.delete(key);
    this.evicted++;
    this.onEvict?.(key, entry.value);
  }

  /** The first entry in touch order, left in place. */
  private peekOldest(): [K, { value: V; touchedAt: number }] | undefined {
    const peeked = this.peeked;
    if (peeked !== undefined && this.entries.get(peeked[0]) === peeked[1]) return peeked;
    let next = this.oldest?.next();
    if (next === undefined || next.done) {
      this.oldest = this.entries.entries();
      next = this.oldest.next();
    }
    this.advanced = true;
    this.peeked = next.done ? undefined : next.value;
    return this.peeked;
  }
}
