/**
 * Bounded FIFO with O(1) amortized `push`/`shift` (no `Array.prototype.shift` on the hot path):
 * a read index into an array that is reset when empty and compacted once half of it is consumed.
 */
export class BoundedQueue<T> {
  readonly capacity: number;
  private items: (T | undefined)[] = [];
  private head = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** Appends `item`; `false` (and nothing stored) when the queue is full. */
  push(item: T): boolean {
    if (this.size >= this.capacity) return false;
    this.items.push(item);
    return true;
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
