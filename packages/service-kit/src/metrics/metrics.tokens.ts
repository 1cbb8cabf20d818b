/** Injection token of the service's single prom-client `Registry`. */
export const METRICS_REGISTRY = Symbol.for('inbox-bridge:METRICS_REGISTRY');
