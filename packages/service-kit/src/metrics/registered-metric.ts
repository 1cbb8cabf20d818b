import type { Metric, Registry } from 'prom-client';

/**
 * The metric already registered under `name`, or the one `create` registers: several providers (and test apps
 * sharing a registry) may ask for the same metric, and prom-client refuses a second registration.
 */
export function registeredMetric<M extends Metric>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}
