import type { EntityManager } from 'typeorm';

/**
 * Reads answered once per transaction and key: later asks in the same transaction (the messages of one consumer
 * batch) share the first answer, as if they had all been read at that moment. Only for rows the transaction does
 * not change after reading them.
 */
export class PerTransaction<V, Transaction extends object = EntityManager> {
  private readonly byTransaction = new WeakMap<Transaction, Map<string, Promise<V>>>();

  get(transaction: Transaction, key: string, read: () => Promise<V>): Promise<V> {
    let answers = this.byTransaction.get(transaction);
    if (answers === undefined) {
      answers = new Map();
      this.byTransaction.set(transaction, answers);
    }
    let answer = answers.get(key);
    if (answer === undefined) {
      answer = read();
      answers.set(key, answer);
    }
    return answer;
  }
}
