/** Injection token of the initialized TypeORM `DataSource` (also provided under the `DataSource` class). */
export const DATA_SOURCE = Symbol.for('inbox-bridge:DATA_SOURCE');
