import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';

/** Numeric id sequences (HubSpot ids are numbers rendered as strings) and opaque tokens. */
@Injectable()
export class IdGenerator {
  private readonly sequences = new Map<string, number>();

  next(kind: string, start: number): number {
    const value = (this.sequences.get(kind) ?? start - 1) + 1;
    this.sequences.set(kind, value);
    return value;
  }

  token(prefix: string): string {
    return `${prefix}${randomBytes(24).toString('base64url')}`;
  }

  reset(): void {
    this.sequences.clear();
  }
}
