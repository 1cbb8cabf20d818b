/** Appends `item` to a log kept for inspection, keeping the newest `max` entries (0 keeps none). */
export function appendBounded<T>(log: T[], item: T, max: number): void {
  if (max === 0) {
    return;
  }
  log.push(item);
  if (log.length > max) {
    log.splice(0, log.length - max);
  }
}
