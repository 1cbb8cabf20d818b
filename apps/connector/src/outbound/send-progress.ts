/** The parts of one reply already accepted by the provider (a reply can be several provider messages). */
export class SendProgress {
  private readonly parts = new Map<string, string>();

  /** The provider message id of a part sent by an earlier attempt, if any. */
  sent(part: string): string | undefined {
    return this.parts.get(part);
  }

  record(part: string, providerMessageId: string): void {
    this.parts.set(part, providerMessageId);
  }
}

const MAX_TRACKED_REPLIES = 10_000;

/**
 * Remembers, across deliveries of one reply, which of its parts the provider already accepted, so a retry
 * after a partial failure (the text went out, the file hit a rate limit) sends only what is missing, and a
 * redelivery after the outcome could not be recorded (the database went away after the provider accepted)
 * sends nothing again. Kept until evicted, not forgotten once sent, since recording can fail after the send.
 * In memory: ordered consumer groups keep a conversation on one consumer, so redeliveries come back to this
 * process; after a crash the worst case is the duplicate the providers' non-idempotent APIs allow anyway.
 */
export class SendProgressStore {
  private readonly replies = new Map<string, SendProgress>();

  for(key: string): SendProgress {
    let progress = this.replies.get(key);
    if (progress === undefined) {
      progress = new SendProgress();
      this.replies.set(key, progress);
      if (this.replies.size > MAX_TRACKED_REPLIES) {
        const oldest = this.replies.keys().next().value;
        if (oldest !== undefined) {
          this.replies.delete(oldest);
        }
      }
    }
    return progress;
  }
}
