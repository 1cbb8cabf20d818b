import { All, Controller, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { authenticate, httpMethodOf, readForm } from './twilio-api.controller.js';
import { requestOrigin } from './twilio-inbound.js';
import { TwilioApiError } from './twilio.error.js';
import { TwilioState, type AccountRecord, type MessagingServiceRecord } from './twilio.state.js';
import { servicePhoneNumberView, serviceView, v1Page } from './twilio.views.js';

const SID = (prefix: string): string => `(${prefix}[0-9a-f]{32})`;
const ROUTES = {
  services: /^$/,
  service: new RegExp(`^/${SID('MG')}$`),
  phoneNumbers: new RegExp(`^/${SID('MG')}/PhoneNumbers$`),
  phoneNumber: new RegExp(`^/${SID('MG')}/PhoneNumbers/${SID('PN')}$`),
};

/**
 * `https://messaging.twilio.com/v1/Services` as the sandbox serves it, on its one origin: the Messaging Services
 * of the authenticated account, their inbound settings and their PhoneNumbers subresource. Creating a service is
 * the control API's (`POST /__sandbox/twilio/accounts/{sid}/messaging-services`).
 */
@Controller('v1/Services')
export class MessagingApiController {
  constructor(private readonly state: TwilioState) {}

  @All(['', '*path'])
  handle(@Req() req: Request, @Res() res: Response): void {
    try {
      const account = authenticate(this.state, req, undefined);
      const rest = req.path.slice('/v1/Services'.length).replace(/\/$/, '');
      const result = this.route(req, account, rest);
      if (result.status === 204) {
        res.status(204).end();
        return;
      }
      res.status(result.status).json(result.body);
    } catch (error) {
      const failure =
        error instanceof TwilioApiError ? error : new TwilioApiError(500, 20500, 'Internal Server Error');
      res.status(failure.status).json(failure.body);
    }
  }

  private route(req: Request, account: AccountRecord, rest: string): { status: number; body?: unknown } {
    const origin = requestOrigin(req);
    const query = new URLSearchParams(req.url.split('?')[1] ?? '');
    const method = req.method;
    let match: RegExpExecArray | null;
    if (ROUTES.services.test(rest) && method === 'GET') {
      const services = [...this.state.services.values()].filter(
        (service) => service.accountSid === account.sid,
      );
      return {
        status: 200,
        body: v1Page(
          'services',
          `${origin}/v1/Services`,
          query,
          services.map((service) => serviceView(service, origin)),
        ),
      };
    }
    if ((match = ROUTES.service.exec(rest)) !== null && (method === 'GET' || method === 'POST')) {
      const service = this.service(req, account, match[1]);
      if (method === 'POST') {
        const form = readForm(req);
        const value = (name: string): string | undefined => form[name]?.[0];
        const url = (name: string, current: string | null): string | null => {
          const given = value(name);
          return given === undefined ? current : given === '' ? null : given;
        };
        service.friendlyName = value('FriendlyName') ?? service.friendlyName;
        service.inboundRequestUrl = url('InboundRequestUrl', service.inboundRequestUrl);
        service.inboundMethod = httpMethodOf(value('InboundMethod')) ?? service.inboundMethod;
        service.fallbackUrl = url('FallbackUrl', service.fallbackUrl);
        service.fallbackMethod = httpMethodOf(value('FallbackMethod')) ?? service.fallbackMethod;
        const defer = value('UseInboundWebhookOnNumber');
        if (defer !== undefined) {
          service.useInboundWebhookOnNumber = defer.toLowerCase() === 'true';
        }
        service.updatedMs = this.state.clock.nowMs();
      }
      return { status: 200, body: serviceView(service, origin) };
    }
    if ((match = ROUTES.phoneNumbers.exec(rest)) !== null) {
      const service = this.service(req, account, match[1]);
      if (method === 'GET') {
        const numbers = [...service.numbers.keys()].flatMap((sid) => {
          const number = this.state.numbers.get(sid);
          return number === undefined ? [] : [servicePhoneNumberView(service, number, origin)];
        });
        return {
          status: 200,
          body: v1Page('phone_numbers', `${origin}/v1/Services/${service.sid}/PhoneNumbers`, query, numbers),
        };
      }
      if (method === 'POST') {
        const sid = readForm(req)['PhoneNumberSid']?.[0] ?? '';
        const number = this.state.numbers.get(sid);
        if (number?.accountSid !== account.sid) {
          throw TwilioApiError.notFound(`/2010-04-01/Accounts/${account.sid}/IncomingPhoneNumbers/${sid}`);
        }
        const current = this.state.serviceOf(number);
        if (current !== undefined && current !== service) {
          throw TwilioApiError.badRequest(
            21712,
            'Phone Number or Short Code is associated with another Messaging Service.',
          );
        }
        service.numbers.set(number.sid, this.state.clock.nowMs());
        return { status: 201, body: servicePhoneNumberView(service, number, origin) };
      }
    }
    if ((match = ROUTES.phoneNumber.exec(rest)) !== null && (method === 'GET' || method === 'DELETE')) {
      const service = this.service(req, account, match[1]);
      const number = this.state.numbers.get(match[2] ?? '');
      if (number === undefined || !service.numbers.has(number.sid)) {
        throw TwilioApiError.notFound(req.path);
      }
      if (method === 'DELETE') {
        service.numbers.delete(number.sid);
        return { status: 204 };
      }
      return { status: 200, body: servicePhoneNumberView(service, number, origin) };
    }
    throw TwilioApiError.notFound(req.path);
  }

  private service(req: Request, account: AccountRecord, sid: string | undefined): MessagingServiceRecord {
    const service = this.state.services.get(sid ?? '');
    if (service?.accountSid !== account.sid) {
      throw TwilioApiError.notFound(req.path);
    }
    return service;
  }
}
