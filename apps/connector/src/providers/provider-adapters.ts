import type { Provider } from '@inbox-bridge/shared';
import type { ProviderAdapter } from './provider-port.js';

/** Every adapter, by provider. */
export class ProviderAdapters {
  private readonly byProvider: ReadonlyMap<Provider, ProviderAdapter>;

  constructor(adapters: readonly ProviderAdapter[]) {
    this.byProvider = new Map(adapters.map((adapter) => [adapter.provider, adapter]));
  }

  /** The adapters whose accounts the inbound reconciler visits: they list what the provider holds, or check webhooks. */
  reconciled(): ProviderAdapter[] {
    return [...this.byProvider.values()].filter(
      (adapter) => adapter.listInbound !== undefined || adapter.readWebhook !== undefined,
    );
  }

  get(provider: Provider): ProviderAdapter {
    const adapter = this.byProvider.get(provider);
    if (adapter === undefined) {
      throw new Error(`no adapter for provider ${provider}`);
    }
    return adapter;
  }
}
