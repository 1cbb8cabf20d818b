import { APP_CONFIG } from '@inbox-bridge/service-kit';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { SandboxConfig } from '../config/sandbox.config.js';
import { AppStore } from '../store/app.store.js';
import { IdGenerator } from '../store/ids.js';
import { parseSubscriptionList, webhookSettings } from '../webhooks/subscriptions.js';

/** Registers the app described by the configuration, at start and after every reset. */
@Injectable()
export class SeedService implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: SandboxConfig,
    private readonly apps: AppStore,
    private readonly ids: IdGenerator,
  ) {}

  onModuleInit(): void {
    this.seedConfiguredApp();
  }

  seedConfiguredApp(): void {
    const list = (value: string, separator: RegExp) =>
      value
        .split(separator)
        .map((item) => item.trim())
        .filter((item) => item !== '');
    const app = this.apps.save({
      appId: this.config.SANDBOX_APP_ID,
      name: 'inbox-bridge (sandbox)',
      clientId: this.config.SANDBOX_CLIENT_ID,
      clientSecret: this.config.SANDBOX_CLIENT_SECRET,
      developerApiKeys: list(this.config.SANDBOX_DEVELOPER_API_KEYS, /,/),
      redirectUris: list(this.config.SANDBOX_REDIRECT_URIS, /,/),
      scopes: list(this.config.SANDBOX_APP_SCOPES, /\s+/),
    });
    const targetUrl = this.config.SANDBOX_APP_WEBHOOK_URL;
    const subscriptions = parseSubscriptionList(this.config.SANDBOX_APP_WEBHOOK_SUBSCRIPTIONS);
    if (targetUrl !== undefined && Array.isArray(subscriptions)) {
      app.webhooks = webhookSettings({ targetUrl, subscriptions }, this.ids);
    }
  }
}
