import { APP_CONFIG } from '@inbox-bridge/service-kit';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { GatewayConfig } from '../config/gateway.config.js';
import { PortalTokens } from '../hubspot/portal-tokens.js';
import { RosterService } from './roster/roster.service.js';

/**
 * The platform's periodic work on every replica: refresh access tokens before they expire and re-read
 * rosters. Both claim rows with `SKIP LOCKED`, so replicas share the work instead of repeating it.
 */
@Injectable()
export class PlatformScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('PlatformScheduler');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    private readonly tokens: PortalTokens,
    private readonly roster: RosterService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.running === undefined) {
        this.running = this.tick().finally(() => {
          this.running = undefined;
        });
      }
    }, this.config.PLATFORM_SCHEDULER_TICK_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One round of both jobs; public for tests. */
  async tick(): Promise<void> {
    try {
      await this.tokens.refreshExpiring(this.config.HUBSPOT_TOKEN_REFRESH_LEAD_MS);
    } catch (error) {
      this.logger.warn({ error: (error as Error).message }, 'token refresh round failed');
    }
    try {
      await this.roster.refreshDue(this.config.ROSTER_REFRESH_INTERVAL);
    } catch (error) {
      this.logger.warn({ error: (error as Error).message }, 'roster round failed');
    }
  }
}
