import { describe, expect, it } from '@jest/globals';
import { matchRoutePath } from './raw-http-route.js';

describe('matchRoutePath', () => {
  it('matches a literal path with or without a trailing slash, ignoring the query', () => {
    expect(matchRoutePath('/webhooks/hubspot', '/webhooks/hubspot')).toEqual({});
    expect(matchRoutePath('/webhooks/hubspot', '/webhooks/hubspot/')).toEqual({});
    expect(matchRoutePath('/webhooks/hubspot', '/webhooks/hubspot?a=1')).toEqual({});
    expect(matchRoutePath('/webhooks/hubspot', '/webhooks/hubspot/conversation-events')).toBeUndefined();
    expect(matchRoutePath('/webhooks/hubspot', '/webhooks/hubspo')).toBeUndefined();
    expect(matchRoutePath('/webhooks/hubspot', '/webhooks/hubspot//')).toBeUndefined();
  });

  it('hands over each :name segment, percent-decoded', () => {
    expect(matchRoutePath('/webhooks/twilio/:id/status', '/webhooks/twilio/acc%2D1/status?x=1')).toEqual({
      id: 'acc-1',
    });
    expect(matchRoutePath('/webhooks/telegram/:id', '/webhooks/telegram/42/')).toEqual({ id: '42' });
  });

  it('needs one non-empty, decodable segment per :name', () => {
    expect(matchRoutePath('/webhooks/telegram/:id', '/webhooks/telegram/')).toBeUndefined();
    expect(matchRoutePath('/webhooks/telegram/:id', '/webhooks/telegram')).toBeUndefined();
    expect(matchRoutePath('/webhooks/telegram/:id', '/webhooks/telegram/1/2')).toBeUndefined();
    expect(matchRoutePath('/webhooks/telegram/:id', '/webhooks/telegram/%E0%A4%A')).toBeUndefined();
    expect(matchRoutePath('/webhooks/twilio/:id', '/webhooks/twilio/1/status')).toBeUndefined();
  });
});
