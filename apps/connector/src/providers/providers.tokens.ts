/** The SSRF-guarded client for provider APIs and customer-supplied URLs. */
export const PROVIDER_HTTP = Symbol('PROVIDER_HTTP');
/** The client for the bridge's own services (gateway), whose URLs come from configuration only. */
export const INTERNAL_HTTP = Symbol('INTERNAL_HTTP');
