import type { Provider } from '@inbox-bridge/shared';
import type { ProviderAdapter } from './provider-port.js';

/** Every adapter, by provider. */
export class ProviderAdapters {
  private readonly byProvider: ReadonlyMap<Provider, ProviderAdapter>;

  constructor(adapters: readonly ProviderAdapter[]) {
    this.byProvider = new Map(adapters.map((adapter) => [adapter.provider, adapter]));
  }

  /** The adapters that can list the inbound messages their provider holds. */
  listingInbound(): (ProviderAdapter & Required<Pick<ProviderAdapter, 'listInbound'>>)[] {
    return [...this.byProvider.values()].filter(
      (adapter): adapter is ProviderAdapter & Required<Pick<ProviderAdapter, 'listInbound'>> =>
        adapter.listInbound !== undefined,
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
