import { limitedStream, type HttpResponse } from '../http/outbound-http.js';
import { MediaTooLargeError, type InboundRequest, type MediaStream } from './provider-port.js';

/** A 200 download as a `MediaStream`, refused up front when its declared length is over the limit and cut off when the bytes are. */
export function mediaStreamFrom(response: HttpResponse, limitBytes: number): MediaStream {
  const length = Number(response.headers['content-length']);
  const known = Number.isFinite(length) && length >= 0;
  if (known && length > limitBytes) {
    response.discard();
    throw new MediaTooLargeError(limitBytes);
  }
  return {
    body: limitedStream(response.body, limitBytes),
    contentType: response.headers['content-type'] ?? 'application/octet-stream',
    ...(known ? { contentLength: length } : {}),
  };
}

/** One header of a webhook request (the first value when repeated). */
export function inboundHeader(request: InboundRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Another app's webhook URL, as logged or shown: only its origin, since the path or query may carry that app's
 * secrets.
 */
export function webhookOrigin(url: string): string {
  if (url === '') {
    return '(none)';
  }
  try {
    return new URL(url).origin;
  } catch {
    return '(not a URL)';
  }
}

/** `${CONNECTOR_PUBLIC_BASE_URL}/webhooks/<provider path>/<channelAccountId>`: the URL a provider is told to call. */
export function publicWebhookUrl(
  publicBaseUrl: string,
  providerPath: string,
  channelAccountId: string,
): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/webhooks/${providerPath}/${encodeURIComponent(channelAccountId)}`;
}
