interface Waiting<V> {
  readonly resolve: (value: V | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Reads asked for in the same turn of the event loop go to the database as one query: `readAll` gets their
 * distinct keys and answers what it found, by key. Work started together (the events of one claim, prepared at
 * once) then pays one round trip instead of one per read. A failed query fails every read of its group.
 */
export class GroupedReads<V> {
  private group: Map<string, Waiting<V>[]> | undefined;

  constructor(private readonly readAll: (keys: readonly string[]) => Promise<ReadonlyMap<string, V>>) {}

  read(key: string): Promise<V | undefined> {
    return new Promise<V | undefined>((resolve, reject) => {
      let group = this.group;
      if (group === undefined) {
        const started = new Map<string, Waiting<V>[]>();
        group = started;
        this.group = started;
        setImmediate(() => {
          void this.flush(started);
        });
      }
      const waiting = group.get(key) ?? [];
      waiting.push({ resolve, reject });
      group.set(key, waiting);
    });
  }

  private async flush(group: Map<string, Waiting<V>[]>): Promise<void> {
    if (this.group === group) {
      this.group = undefined;
    }
    let found: ReadonlyMap<string, V>;
    try {
      found = await this.readAll([...group.keys()]);
    } catch (error) {
      for (const waiting of group.values()) {
        waiting.forEach(({ reject }) => {
          reject(error);
        });
      }
      return;
    }
    for (const [key, waiting] of group) {
      waiting.forEach(({ resolve }) => {
        resolve(found.get(key));
      });
    }
  }
}
