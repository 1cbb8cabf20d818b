import { Injectable } from '@nestjs/common';
import type { AppWebhookSettings } from '../control/control.types.js';

/** A HubSpot (public) app of a developer account. */
export interface SandboxApp {
  readonly appId: number;
  readonly name: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Developer API keys (`hapikey`) of the developer account that owns the app. */
  readonly developerApiKeys: string[];
  readonly redirectUris: string[];
  /** Scopes the app may request at authorize time. */
  readonly scopes: string[];
  /** Webhooks API settings (§2.6): target URL and conversation subscriptions; absent = none. */
  webhooks?: AppWebhookSettings;
}

@Injectable()
export class AppStore {
  private readonly apps = new Map<number, SandboxApp>();

  save(app: SandboxApp): SandboxApp {
    this.apps.set(app.appId, app);
    return app;
  }

  get(appId: number): SandboxApp | undefined {
    return this.apps.get(appId);
  }

  byClientId(clientId: string): SandboxApp | undefined {
    return [...this.apps.values()].find((app) => app.clientId === clientId);
  }

  list(): SandboxApp[] {
    return [...this.apps.values()];
  }

  reset(): void {
    this.apps.clear();
  }
}
