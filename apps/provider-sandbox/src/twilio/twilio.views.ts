import {
  API_VERSION,
  rfc2822,
  type AccountRecord,
  type ApplicationRecord,
  type MediaRecord,
  type MessageRecord,
  type MessagingServiceRecord,
  type NumberRecord,
} from './twilio.state.js';

const base = (accountSid: string): string => `/${API_VERSION}/Accounts/${accountSid}`;

export function accountView(account: AccountRecord) {
  const uri = base(account.sid);
  return {
    auth_token: account.authToken,
    date_created: rfc2822(account.createdMs),
    date_updated: rfc2822(account.createdMs),
    friendly_name: account.friendlyName,
    owner_account_sid: account.sid,
    sid: account.sid,
    status: account.status,
    subresource_uris: {
      incoming_phone_numbers: `${uri}/IncomingPhoneNumbers.json`,
      messages: `${uri}/Messages.json`,
    },
    type: account.type,
    uri: `${uri}.json`,
  };
}

export function numberView(number: NumberRecord) {
  return {
    account_sid: number.accountSid,
    api_version: API_VERSION,
    capabilities: number.capabilities,
    date_created: rfc2822(number.createdMs),
    date_updated: rfc2822(number.updatedMs),
    friendly_name: number.friendlyName,
    phone_number: number.phoneNumber,
    sid: number.sid,
    sms_application_sid: number.smsApplicationSid,
    sms_fallback_method: number.smsFallbackMethod,
    sms_fallback_url: number.smsFallbackUrl,
    sms_method: number.smsMethod,
    sms_url: number.smsUrl,
    status: 'in-use',
    status_callback: number.statusCallback,
    status_callback_method: number.statusCallbackMethod,
    uri: `${base(number.accountSid)}/IncomingPhoneNumbers/${number.sid}.json`,
  };
}

export function applicationView(application: ApplicationRecord) {
  return {
    account_sid: application.accountSid,
    api_version: API_VERSION,
    date_created: rfc2822(application.createdMs),
    date_updated: rfc2822(application.updatedMs),
    friendly_name: application.friendlyName,
    sid: application.sid,
    sms_fallback_method: application.smsFallbackMethod,
    sms_fallback_url: application.smsFallbackUrl,
    sms_method: application.smsMethod,
    sms_status_callback: null,
    sms_url: application.smsUrl,
    uri: `${base(application.accountSid)}/Applications/${application.sid}.json`,
  };
}

/** The Messaging API (`https://messaging.twilio.com/v1`) writes ISO 8601 dates, not RFC 2822. */
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function serviceView(service: MessagingServiceRecord, origin: string) {
  const url = `${origin}/v1/Services/${service.sid}`;
  return {
    account_sid: service.accountSid,
    date_created: iso(service.createdMs),
    date_updated: iso(service.updatedMs),
    fallback_method: service.fallbackMethod,
    fallback_url: service.fallbackUrl,
    friendly_name: service.friendlyName,
    inbound_method: service.inboundMethod,
    inbound_request_url: service.inboundRequestUrl,
    links: {
      phone_numbers: `${url}/PhoneNumbers`,
      short_codes: `${url}/ShortCodes`,
      alpha_senders: `${url}/AlphaSenders`,
    },
    sid: service.sid,
    status_callback: null,
    sticky_sender: true,
    url,
    use_inbound_webhook_on_number: service.useInboundWebhookOnNumber,
  };
}

export function servicePhoneNumberView(
  service: MessagingServiceRecord,
  number: NumberRecord,
  origin: string,
) {
  const capabilities = (['voice', 'sms', 'mms', 'fax'] as const)
    .filter((name) => number.capabilities[name])
    .map((name) => name.toUpperCase());
  const addedMs = service.numbers.get(number.sid) ?? number.createdMs;
  return {
    account_sid: number.accountSid,
    capabilities,
    country_code: 'US',
    date_created: iso(addedMs),
    date_updated: iso(addedMs),
    phone_number: number.phoneNumber,
    service_sid: service.sid,
    sid: number.sid,
    url: `${origin}/v1/Services/${service.sid}/PhoneNumbers/${number.sid}`,
  };
}

/** The Messaging API's list envelope: `{ <key>: [...], meta: { page, page_size, …_url, key } }`. */
export function v1Page<T>(key: string, url: string, query: URLSearchParams, items: readonly T[]) {
  const pageSize = Math.min(Math.max(Number(query.get('PageSize') ?? 50) || 50, 1), 1000);
  const pageNumber = Math.max(Number(query.get('Page') ?? 0) || 0, 0);
  const start = pageNumber * pageSize;
  const link = (n: number): string => `${url}?PageSize=${pageSize}&Page=${n}`;
  return {
    [key]: items.slice(start, start + pageSize),
    meta: {
      first_page_url: link(0),
      key,
      next_page_url: start + pageSize < items.length ? link(pageNumber + 1) : null,
      page: pageNumber,
      page_size: pageSize,
      previous_page_url: pageNumber > 0 ? link(pageNumber - 1) : null,
      url: link(pageNumber),
    },
  };
}

export function messageView(message: MessageRecord) {
  const uri = `${base(message.accountSid)}/Messages/${message.sid}`;
  return {
    account_sid: message.accountSid,
    api_version: API_VERSION,
    body: message.body,
    date_created: rfc2822(message.createdMs),
    date_sent: message.sentMs === null ? null : rfc2822(message.sentMs),
    date_updated: rfc2822(message.updatedMs),
    direction: message.direction,
    error_code: message.errorCode,
    error_message: message.errorMessage,
    from: message.from,
    messaging_service_sid: message.messagingServiceSid,
    num_media: String(message.media.length),
    num_segments: String(message.numSegments),
    price: null,
    price_unit: 'USD',
    sid: message.sid,
    status: message.status,
    subresource_uris: { media: `${uri}/Media.json`, feedback: `${uri}/Feedback.json` },
    to: message.to,
    uri: `${uri}.json`,
  };
}

export function mediaView(media: MediaRecord) {
  return {
    account_sid: media.accountSid,
    content_type: media.contentType,
    date_created: rfc2822(media.createdMs),
    date_updated: rfc2822(media.createdMs),
    parent_sid: media.parentSid,
    sid: media.sid,
    uri: `${base(media.accountSid)}/Messages/${media.parentSid}/Media/${media.sid}.json`,
  };
}

/** Twilio's list envelope (`Page` / `PageSize`, default 50, max 1000) around `items` under `key`. */
export function page<T>(key: string, path: string, query: URLSearchParams, items: readonly T[]) {
  const pageSize = Math.min(Math.max(Number(query.get('PageSize') ?? 50) || 50, 1), 1000);
  const pageNumber = Math.max(Number(query.get('Page') ?? 0) || 0, 0);
  const start = pageNumber * pageSize;
  const slice = items.slice(start, start + pageSize);
  const link = (n: number): string => {
    const params = new URLSearchParams(query);
    params.delete('PageToken');
    params.set('PageSize', String(pageSize));
    params.set('Page', String(n));
    if (n > 0) {
      params.set('PageToken', `PA${n * pageSize}`);
    }
    return `${path}?${params.toString()}`;
  };
  return {
    [key]: slice,
    end: start + Math.max(slice.length - 1, 0),
    first_page_uri: link(0),
    next_page_uri: start + pageSize < items.length ? link(pageNumber + 1) : null,
    page: pageNumber,
    page_size: pageSize,
    previous_page_uri: pageNumber > 0 ? link(pageNumber - 1) : null,
    start,
    uri: `${path}?${query.toString()}`,
  };
}
