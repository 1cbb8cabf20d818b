import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { withTimeout } from '../common/with-timeout.js';
import type { ReadinessCheck } from '../health/readiness-check.js';
import { DATA_SOURCE } from './database.tokens.js';

/** Readiness: `SELECT 1` on the service's DataSource within 1.5 s. */
@Injectable()
export class DatabaseReadinessCheck implements ReadinessCheck {
  readonly name = 'database';
  readonly timeoutMs = 1500;

  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async check(): Promise<void> {
    if (!this.dataSource.isInitialized) {
      throw new Error('DataSource is not initialized');
    }
    await withTimeout(this.dataSource.query('SELECT 1'), this.timeoutMs, 'database ping');
  }
}
