import { describe, expect, it } from '@jest/globals';
import {
  isValidTwilioSignature,
  parseTwilioForm,
  twilioSignature,
} from '../../src/providers/twilio/twilio-signature.js';

/** Known-answer vectors of providers-api.md §2.7 (Twilio SDK test suites). */
const URL_1 = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const CALL = {
  CallSid: ['CA1234567890ABCDE'],
  Caller: ['+14158675309'],
  Digits: ['1234'],
  From: ['+14158675309'],
  To: ['+18005551212'],
};

describe('X-Twilio-Signature', () => {
  it('matches the SDK vectors, with and without ports and with repeated parameters', () => {
    expect(twilioSignature('12345', URL_1, CALL)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    expect(twilioSignature('12345', 'https://mycompany.com:443/myapp.php?foo=1&bar=2', CALL)).toBe(
      'kvajT1Ptam85bY51eRf/AJRuM3w=',
    );
    expect(twilioSignature('12345', 'http://mycompany.com:80/myapp.php?foo=1&bar=2', CALL)).toBe(
      '0ZXoZLH/DfblKGATFgpif+LLRf4=',
    );
    expect(
      twilioSignature('12345', URL_1, {
        Sid: ['CA123'],
        SidAccount: ['AC123'],
        Digits: ['5678', '1234', '1234'],
      }),
    ).toBe('IK+Dwps556ElfBT0I3Rgjkr1wJU=');
  });

  it('accepts a signature computed over the URL with the default port added or a custom port removed', () => {
    expect(isValidTwilioSignature('12345', 'kvajT1Ptam85bY51eRf/AJRuM3w=', URL_1, CALL)).toBe(true);
    expect(
      isValidTwilioSignature(
        '12345',
        'RSOYDt4T1cUTdK1PDd93/VVr8B8=',
        'https://mycompany.com:1234/myapp.php?foo=1&bar=2',
        CALL,
      ),
    ).toBe(true);
    expect(
      isValidTwilioSignature('12345', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', URL_1, { ...CALL, Digits: ['9'] }),
    ).toBe(false);
    expect(isValidTwilioSignature('12345', undefined, URL_1, CALL)).toBe(false);
  });

  it('verifies the bridge-shaped inbound vector from the raw form body', () => {
    const form = [
      'ToCountry=US',
      'ToState=CA',
      'SmsMessageSid=MM5ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5',
      'NumMedia=1',
      'ToCity=SAN FRANCISCO',
      'FromZip=94105',
      'SmsSid=MM5ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5',
      'FromState=CA',
      'SmsStatus=received',
      'FromCity=SAN FRANCISCO',
      'Body=Hola, ¿tienen la factura?',
      'FromCountry=US',
      'To=+14155550100',
      'ToZip=94107',
      'NumSegments=1',
      'MessageSid=MM5ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5',
      'AccountSid=AC00000000000000000000000000000001',
      'From=+14155550123',
      'MediaContentType0=image/jpeg',
      'MediaUrl0=https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages/MM5ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5/Media/ME0f1e2d3c4b5a69788796a5b4c3d2e1f0',
      'ApiVersion=2010-04-01',
    ].map((pair) => {
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1)] as [string, string];
    });
    const raw = Buffer.from(new URLSearchParams(form).toString());
    expect(
      isValidTwilioSignature(
        '0123456789abcdef0123456789abcdef',
        'uKNM1b5bIXdzZt1j9s8XO5hVyQE=',
        'https://bridge.example.com/webhooks/twilio/sms?account=acct_1',
        parseTwilioForm(raw),
      ),
    ).toBe(true);
  });
});
