/** Where the router reads the time: the system clock, or a controllable one in tests and the benchmark. */
export interface Clock {
  now(): Date;
}

export const ROUTER_CLOCK = Symbol('ROUTER_CLOCK');

export const systemClock: Clock = { now: () => new Date() };
