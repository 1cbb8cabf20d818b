/**
 * Concurrent reads of one key share the read in flight, and nothing is kept once it settles: a burst of lookups
 * of one row costs one query. Each caller sees the value as of a moment just before it asked or after, never
 * older; for reads outside a transaction, where that is all a caller could count on anyway.
 */
export class SharedReads<K, V> {
  private readonly inFlight = new Map<K, Promise<V>>();

  read(key: K, load: () => Promise<V>): Promise<V> {
    let reading = this.inFlight.get(key);
    if (reading === undefined) {
      reading = load().finally(() => {
        this.inFlight.delete(key);
      });
      this.inFlight.set(key, reading);
    }
    return reading;
  }
}
