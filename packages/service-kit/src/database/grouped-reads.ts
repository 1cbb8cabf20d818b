interface Waiting<V> {
  readonly resolve: (value: V | undefined) => void;
  readonly reject: (error: unknown) => void;
}

interface Group<K, V> {
  /** The distinct keys asked for, by their string form, with everyone waiting for each. */
  readonly byKey: Map<string, { readonly key: K; readonly waiting: Waiting<V>[] }>;
}

/**
 * Reads asked for in the same turn of the event loop go to the database as one query: `readAll` gets their
 * distinct keys and answers what it found, by each key's `keyOf`. Work started together (the events of one claim,
 * prepared at once) then pays one round trip instead of one per read. A failed query fails every read of its group.
 */
export class GroupedReads<K, V> {
  private group: Group<K, V> | undefined;

  constructor(
    private readonly readAll: (keys: readonly K[]) => Promise<ReadonlyMap<string, V>>,
    private readonly keyOf: (key: K) => string,
  ) {}

  read(key: K): Promise<V | undefined> {
    return new Promise<V | undefined>((resolve, reject) => {
      let group = this.group;
      if (group === undefined) {
        const started: Group<K, V> = { byKey: new Map() };
        group = started;
        this.group = started;
        setImmediate(() => {
          void this.flush(started);
        });
      }
      const id = this.keyOf(key);
      const asked = group.byKey.get(id) ?? { key, waiting: [] };
      asked.waiting.push({ resolve, reject });
      group.byKey.set(id, asked);
    });
  }

  private async flush(group: Group<K, V>): Promise<void> {
    if (this.group === group) {
      this.group = undefined;
    }
    const asked = [...group.byKey];
    let found: ReadonlyMap<string, V> | undefined;
    let failure: unknown;
    try {
      found = await this.readAll(asked.map(([, { key }]) => key));
    } catch (error) {
      failure = error;
    }
    for (const [id, { waiting }] of asked) {
      for (const { resolve, reject } of waiting) {
        if (found === undefined) {
          reject(failure);
        } else {
          resolve(found.get(id));
        }
      }
    }
  }
}
