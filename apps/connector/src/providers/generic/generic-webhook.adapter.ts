import { parseBody, parseJsonBody, RequestValidationError } from '@inbox-bridge/service-kit';
import {
  ProviderCapabilityTable,
  type ProviderCredentials,
  type ProviderMessageReceivedV1,
  type ReceivedAttachment,
} from '@inbox-bridge/shared';
import { isIP } from 'node:net';
import { HttpTransportError, type HttpResponse, type OutboundHttp } from '../../http/outbound-http.js';
import { isAllowedHost, isPublicAddress, SsrfBlockedError } from '../../http/ssrf-guard.js';
import type { SendThrottle } from '../../outbound/send-throttle.js';
import { inboundHeader, mediaStreamFrom } from '../media-response.js';
import { assertFileFits } from '../outbound-file.js';
import {
  InboundUnauthorizedError,
  MediaNotFoundError,
  SendFailure,
  type ConnectedAccount,
  type CredentialCheck,
  type InboundEvent,
  type InboundRequest,
  type MediaStream,
  type OutboundMessage,
  type ProviderAdapter,
} from '../provider-port.js';
import { htmlToPlainText } from '../rich-text.js';
import {
  GENERIC_SIGNATURE_HEADER,
  genericSignatureHeader,
  verifyGenericSignature,
} from './generic-signature.js';
import {
  GENERIC_SPEC_VERSION,
  genericInboundSchema,
  genericOutboundAnswerSchema,
  type GenericInbound,
} from './generic-webhook.schemas.js';

type GenericCredentials = Extract<ProviderCredentials, { provider: 'generic-webhook' }>;

/** The media URL, carried opaquely inside the download reference (the gateway never sees a raw URL). */
function mediaKeyOf(url: string): string {
  return Buffer.from(url, 'utf8').toString('base64url');
}

/** Generic signed JSON webhook (docs/providers/generic-webhook.md, spec version 1). */
export class GenericWebhookAdapter implements ProviderAdapter {
  readonly provider = 'generic-webhook' as const;
  readonly capabilities = ProviderCapabilityTable['generic-webhook'];

  constructor(
    private readonly http: OutboundHttp,
    private readonly throttle: SendThrottle,
    private readonly allowedHosts: readonly string[],
  ) {}

  /** URL shape (HTTPS, by contract) and the SSRF guard on its resolved addresses; no request is sent. */
  async validateCredentials(credentials: ProviderCredentials): Promise<CredentialCheck> {
    if (credentials.provider !== 'generic-webhook') {
      return { ok: false, code: 'wrong-provider', message: 'These are not generic webhook settings.' };
    }
    const url = new URL(credentials.callbackUrl);
    try {
      await this.http.assertCallable(credentials.callbackUrl);
    } catch (error) {
      if (error instanceof SsrfBlockedError) {
        return {
          ok: false,
          code: 'callback-url-not-allowed',
          message:
            'The callback URL points at a private, loopback or metadata address, which the bridge does not call.',
        };
      }
      if (error instanceof HttpTransportError) {
        return {
          ok: false,
          code: 'callback-url-unresolvable',
          message: `The host ${url.hostname} cannot be resolved.`,
        };
      }
      throw error;
    }
    return {
      ok: true,
      accountName: `Webhook ${url.host}`.slice(0, 1024),
      deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: `webhook:${url.host}` },
    };
  }

  /** Nothing to register: the other system is configured with the connector's URL (see the spec). */
  connect(): Promise<void> {
    return Promise.resolve();
  }

  disconnect(): Promise<void> {
    return Promise.resolve();
  }

  parseInbound(account: ConnectedAccount, request: InboundRequest): InboundEvent[] {
    const { sharedSecret } = this.credentialsOf(account);
    const verdict = verifyGenericSignature(
      sharedSecret,
      inboundHeader(request, GENERIC_SIGNATURE_HEADER),
      request.rawBody,
    );
    if (verdict !== 'valid') {
      throw new InboundUnauthorizedError(`X-Signature ${verdict}`);
    }
    const body = parseJsonBody(request.rawBody);
    const inbound = parseBody(genericInboundSchema, body);
    if (inbound.type === 'status') {
      const { status } = inbound;
      const occurredAt = status.occurredAt ?? new Date().toISOString();
      if (status.status === 'failed') {
        return [
          {
            kind: 'status',
            report: {
              providerMessageId: status.messageId,
              status: 'FAILED',
              failureReason: status.reason ?? 'The receiving system could not deliver the message.',
              occurredAt,
            },
          },
        ];
      }
      return [
        {
          kind: 'status',
          report: {
            providerMessageId: status.messageId,
            status: status.status === 'read' ? 'READ' : 'SENT',
            occurredAt,
          },
        },
      ];
    }
    return [{ kind: 'message', normalised: this.normalise(account, inbound) }];
  }

  async resolveMedia(_account: ConnectedAccount, mediaKey: string): Promise<MediaStream> {
    let url: URL;
    try {
      url = new URL(Buffer.from(mediaKey, 'base64url').toString('utf8'));
    } catch {
      throw new MediaNotFoundError('not a generic-webhook media key');
    }
    if (url.protocol !== 'https:' && !isAllowedHost(url.hostname, this.allowedHosts)) {
      throw new SsrfBlockedError(url.hostname, 'media URLs must use HTTPS');
    }
    const response = await this.http.request({ method: 'GET', url: url.toString(), maxRedirects: 3 });
    if (response.status === 404 || response.status === 410) {
      response.discard();
      throw new MediaNotFoundError('the media URL answered 404');
    }
    if (response.status !== 200) {
      response.discard();
      throw new Error(`the media URL answered ${response.status}`);
    }
    return mediaStreamFrom(response, this.capabilities.maxInboundMediaBytes);
  }

  async send(
    account: ConnectedAccount,
    { request, files }: OutboundMessage,
  ): Promise<{ providerMessageId: string }> {
    const { callbackUrl, sharedSecret } = this.credentialsOf(account);
    for (const file of files) {
      const limit = this.capabilities.outboundMedia.find((media) => media.kind === file.kind)?.maxSizeBytes;
      if (limit !== undefined) {
        assertFileFits(file, limit, 'the webhook spec');
      }
    }
    const text =
      request.text !== undefined && request.text.trim() !== ''
        ? request.text
        : request.richText === undefined
          ? undefined
          : htmlToPlainText(request.richText);
    const body = JSON.stringify({
      specVersion: GENERIC_SPEC_VERSION,
      type: 'message',
      message: {
        id: request.hubspotMessageId,
        conversationId: request.conversationKey,
        recipient: request.recipient,
        ...(request.senderName === undefined ? {} : { senderName: request.senderName }),
        ...(text === undefined || text === '' ? {} : { text }),
        ...(request.richText === undefined ? {} : { html: request.richText }),
        ...(request.inReplyToProviderMessageId === undefined
          ? {}
          : { replyToId: request.inReplyToProviderMessageId }),
        sentAt: request.requestedAt,
        attachments: files.map((file) => ({
          type: file.kind,
          url: file.publicUrl,
          mimeType: file.mimeType,
          fileName: file.fileName,
          ...(file.sizeBytes === undefined ? {} : { sizeBytes: file.sizeBytes }),
        })),
      },
    });
    await this.throttle.acquire(`generic:${account.channelAccountId}`, this.capabilities.sendsPerSecond);
    let response: HttpResponse;
    try {
      response = await this.http.request({
        method: 'POST',
        url: callbackUrl,
        headers: {
          'content-type': 'application/json',
          'x-message-id': request.hubspotMessageId,
          [GENERIC_SIGNATURE_HEADER]: genericSignatureHeader(sharedSecret, body),
        },
        body,
      });
    } catch (error) {
      if (error instanceof SsrfBlockedError) {
        throw new SendFailure(
          'permanent',
          'The callback URL points at an address the bridge does not call.',
          'SSRF',
        );
      }
      if (error instanceof HttpTransportError) {
        throw new SendFailure('transient', 'The receiving system could not be reached.', error.code);
      }
      throw error;
    }
    if (response.status >= 200 && response.status < 300) {
      let answer: unknown;
      try {
        answer = JSON.parse(await response.text(64 * 1024));
      } catch {
        answer = {};
      }
      const parsed = genericOutboundAnswerSchema.safeParse(answer);
      return { providerMessageId: (parsed.success ? parsed.data.id : undefined) ?? request.hubspotMessageId };
    }
    const detail = (await response.text(2048).catch(() => '')).replace(/\s+/g, ' ').trim().slice(0, 200);
    if (response.status === 408 || response.status === 429 || response.status >= 500) {
      // Retry-After in seconds, as the spec page asks of receivers; an HTTP date is not read.
      const retryAfter = Number(response.headers['retry-after']);
      throw new SendFailure(
        'transient',
        `The receiving system answered HTTP ${response.status}.`,
        String(response.status),
        Number.isInteger(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
      );
    }
    throw new SendFailure(
      'permanent',
      `The receiving system refused the message (HTTP ${response.status})${detail === '' ? '' : `: ${detail}`}`,
      String(response.status),
    );
  }

  private normalise(account: ConnectedAccount, inbound: Extract<GenericInbound, { type: 'message' }>) {
    const { message } = inbound;
    const attachments: ReceivedAttachment[] = message.attachments.map(
      (attachment, index): ReceivedAttachment => {
        if (attachment.type === 'location') {
          const { type: _type, ...location } = attachment;
          return { kind: 'location', ...location };
        }
        if (attachment.type === 'contact') {
          const { type: _type, ...contact } = attachment;
          return { kind: 'contact-card', ...contact };
        }
        const url = new URL(attachment.url);
        const host = url.hostname.replace(/^\[|\]$/g, '');
        const allowed = isAllowedHost(url.hostname, this.allowedHosts);
        if (!allowed && (url.protocol !== 'https:' || (isIP(host) !== 0 && !isPublicAddress(host)))) {
          throw new RequestValidationError([
            { field: `message.attachments.${index}.url`, message: 'must be an HTTPS URL of a public host' },
          ]);
        }
        return {
          kind: attachment.type,
          media: {
            downloadRef: `media:${account.channelAccountId}:${mediaKeyOf(attachment.url)}`,
            mimeType: attachment.mimeType,
            ...(attachment.fileName === undefined ? {} : { fileName: attachment.fileName }),
            ...(attachment.sizeBytes === undefined ? {} : { sizeBytes: attachment.sizeBytes }),
          },
          ...(attachment.caption === undefined ? {} : { caption: attachment.caption }),
        };
      },
    );
    const payload: ProviderMessageReceivedV1 = {
      provider: 'generic-webhook',
      channelAccountId: account.channelAccountId,
      conversationKey: message.conversationId,
      sender: message.sender,
      providerMessageId: message.id,
      sentAt: message.sentAt,
      ...(message.text === undefined || message.text.trim() === '' ? {} : { text: message.text }),
      ...(message.replyToId === undefined ? {} : { replyToProviderMessageId: message.replyToId }),
      attachments,
    };
    if (payload.text === undefined && attachments.length === 0) {
      throw new RequestValidationError([
        { field: 'message.text', message: 'a message needs text or at least one attachment' },
      ]);
    }
    return { dedupeKey: `msg:${message.id}`, message: payload };
  }

  private credentialsOf(account: ConnectedAccount): GenericCredentials {
    if (account.credentials.provider !== 'generic-webhook') {
      throw new Error(`account ${account.channelAccountId} has no generic webhook credentials`);
    }
    return account.credentials;
  }
}
