/** A REST error in Twilio's body shape (reference §2.2): `{code, message, more_info, status}`. */
export class TwilioApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'TwilioApiError';
  }

  get body() {
    return {
      code: this.code,
      message: this.message,
      more_info: `https://www.twilio.com/docs/errors/${this.code}`,
      status: this.status,
    };
  }

  static authenticate(): TwilioApiError {
    return new TwilioApiError(401, 20003, 'Authenticate');
  }

  static notFound(path: string): TwilioApiError {
    return new TwilioApiError(404, 20404, `The requested resource ${path} was not found`);
  }

  static badRequest(code: number, message: string): TwilioApiError {
    return new TwilioApiError(400, code, message);
  }
}

/** `error_message` texts for the asynchronous codes (reference §2.10). */
export const ASYNC_ERROR_MESSAGES: Readonly<Record<number, string>> = {
  30001: 'Queue overflow',
  30002: 'Account suspended',
  30003: 'Unreachable destination handset',
  30004: 'Message blocked',
  30005: 'Unknown destination handset',
  30006: 'Landline or unreachable carrier',
  30007: 'Message filtered',
  30008: 'Unknown error',
};
