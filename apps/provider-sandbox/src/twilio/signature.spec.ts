import { describe, expect, it } from '@jest/globals';
import { signedUrl, twilioSignature } from './signature.js';

const URL = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const PARAMS = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+14158675309',
  Digits: '1234',
  From: '+14158675309',
  To: '+18005551212',
};
const BRIDGE_TOKEN = '0123456789abcdef0123456789abcdef';

describe('twilioSignature (reference §2.7 known-answer vectors)', () => {
  it('matches the SDK vectors for the docs URL, with and without explicit ports', () => {
    expect(twilioSignature('12345', URL, PARAMS)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    expect(twilioSignature('12345', URL, { ...PARAMS, Caller: '+12349013030', From: '+12349013030' })).toBe(
      '0/KCTR6DLpKmkAf8muzZqo1nDgQ=',
    );
    expect(twilioSignature('12345', 'https://mycompany.com:443/myapp.php?foo=1&bar=2', PARAMS)).toBe(
      'kvajT1Ptam85bY51eRf/AJRuM3w=',
    );
    expect(twilioSignature('12345', 'http://mycompany.com:80/myapp.php?foo=1&bar=2', PARAMS)).toBe(
      '0ZXoZLH/DfblKGATFgpif+LLRf4=',
    );
    expect(twilioSignature('12345', 'https://mycompany.com:1234/myapp.php?foo=1&bar=2', PARAMS)).toBe(
      'CYn1h0gLBdNxDGkKJg6hYohgeD8=',
    );
  });

  it.each([
    [URL, 'with_port', 'kvajT1Ptam85bY51eRf/AJRuM3w='],
    ['http://mycompany.com/myapp.php?foo=1&bar=2', 'with_port', '0ZXoZLH/DfblKGATFgpif+LLRf4='],
    ['https://mycompany.com:1234/myapp.php?foo=1&bar=2', 'with_port', 'CYn1h0gLBdNxDGkKJg6hYohgeD8='],
    ['https://mycompany.com:1234/myapp.php?foo=1&bar=2', 'without_port', 'RSOYDt4T1cUTdK1PDd93/VVr8B8='],
    ['https://mycompany.com:443/myapp.php?foo=1&bar=2', 'without_port', 'RSOYDt4T1cUTdK1PDd93/VVr8B8='],
    [URL, 'as_configured', 'RSOYDt4T1cUTdK1PDd93/VVr8B8='],
  ] as const)('signs %s %s as Twilio has (the port vectors)', (url, port, expected) => {
    expect(twilioSignature('12345', signedUrl(url, port), PARAMS)).toBe(expected);
  });

  it('changes only the port of the signed URL, never its case, userinfo or escaping', () => {
    expect(signedUrl('https://user:p%40ss@Bridge.Example:8443/a?b=%27c%27', 'without_port')).toBe(
      'https://user:p%40ss@Bridge.Example/a?b=%27c%27',
    );
    expect(signedUrl('http://[::1]:3001/webhooks/twilio/1', 'without_port')).toBe(
      'http://[::1]/webhooks/twilio/1',
    );
  });

  it('sorts and de-duplicates the values of a repeated parameter', () => {
    expect(
      twilioSignature('12345', URL, { Sid: 'CA123', SidAccount: 'AC123', Digits: ['5678', '1234', '1234'] }),
    ).toBe('IK+Dwps556ElfBT0I3Rgjkr1wJU=');
  });

  it('signs a URL with no parameters (the bodySHA256 variant)', () => {
    expect(
      twilioSignature(
        '12345',
        `${URL}&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620`,
        {},
      ),
    ).toBe('a9nBmqA0ju/hNViExpshrM61xv4=');
  });

  it('matches the bridge-shaped inbound and status callback vectors', () => {
    const mediaUrl =
      'https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages/MM5ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5/Media/ME0f1e2d3c4b5a69788796a5b4c3d2e1f0';
    const inbound = {
      ToCountry: 'US',
      ToState: 'CA',
      SmsMessageSid: 'MM5ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5',
      NumMedia: '1',
      ToCity: 'SAN FRANCISCO',
      FromZip: '94105',
      SmsSid: 'MM5ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5',
      FromState: 'CA',
      SmsStatus: 'received',
      FromCity: 'SAN FRANCISCO',
      Body: 'Hola, ¿tienen la factura?',
      FromCountry: 'US',
      To: '+14155550100',
      ToZip: '94107',
      NumSegments: '1',
      MessageSid: 'MM5ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5',
      AccountSid: 'AC00000000000000000000000000000001',
      From: '+14155550123',
      MediaContentType0: 'image/jpeg',
      MediaUrl0: mediaUrl,
      ApiVersion: '2010-04-01',
    };
    expect(
      twilioSignature(BRIDGE_TOKEN, 'https://bridge.example.com/webhooks/twilio/sms?account=acct_1', inbound),
    ).toBe('uKNM1b5bIXdzZt1j9s8XO5hVyQE=');
    const status = {
      AccountSid: 'AC00000000000000000000000000000001',
      ApiVersion: '2010-04-01',
      ErrorCode: '30003',
      From: '+14155550100',
      MessageSid: 'SM1f0e8ae6ade43cb3c0ce4525424e404f',
      MessageStatus: 'undelivered',
      SmsSid: 'SM1f0e8ae6ade43cb3c0ce4525424e404f',
      SmsStatus: 'undelivered',
      To: '+14155550123',
    };
    expect(twilioSignature(BRIDGE_TOKEN, 'https://bridge.example.com/webhooks/twilio/status', status)).toBe(
      'xiDjf+g1mj9GY2+zPkd3d7FCSHY=',
    );
  });
});
