import { describe, expect, it } from '@jest/globals';
import {
  classifyError,
  ContractViolationError,
  describeError,
  ExternalServiceError,
  PermanentError,
  TransientError,
} from './errors.js';

/** An error shaped like the ones node's net/dns and the pg driver throw: a message and a string `code`. */
function withCode(code: string, message = 'failed'): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyError', () => {
  describe('explicit error classes', () => {
    it('treats TransientError as transient, whatever its message says', () => {
      expect(classifyError(new TransientError('duplicate key value violates unique constraint'))).toBe(
        'transient',
      );
    });

    it('treats PermanentError as permanent, even when the message looks like an outage', () => {
      expect(classifyError(new PermanentError('upstream timeout'))).toBe('permanent');
    });

    it('treats subclasses of PermanentError as permanent', () => {
      class UnknownChannel extends PermanentError {}
      expect(classifyError(new UnknownChannel('no such channel'))).toBe('permanent');
    });

    it('treats ContractViolationError as permanent and lists its issues', () => {
      const error = new ContractViolationError(['payload.text: required', 'portalId: not a number']);
      expect(classifyError(error)).toBe('permanent');
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.code).toBe('CONTRACT_VIOLATION');
      expect(error.issues).toEqual(['payload.text: required', 'portalId: not a number']);
      expect(error.message).toBe('contract violation: payload.text: required; portalId: not a number');
    });

    it('keeps default and custom codes on TransientError and PermanentError', () => {
      expect(new TransientError('x').code).toBe('TRANSIENT');
      expect(new PermanentError('x').code).toBe('PERMANENT');
      expect(new TransientError('x', 'RATE_LIMITED').code).toBe('RATE_LIMITED');
    });
  });

  describe('ExternalServiceError by HTTP status', () => {
    it.each([408, 429, 500, 502, 503, 504, 599])('status %i is transient', (status) => {
      expect(classifyError(new ExternalServiceError('hubspot', status, 'nope'))).toBe('transient');
    });

    it.each([400, 401, 403, 404, 409, 410, 422])('status %i is permanent', (status) => {
      expect(classifyError(new ExternalServiceError('hubspot', status, 'nope'))).toBe('permanent');
    });

    it('goes by status, not by message text', () => {
      expect(classifyError(new ExternalServiceError('twilio', 400, 'request timeout while validating'))).toBe(
        'permanent',
      );
    });

    it('names the service and status in its message and keeps retryAfterMs', () => {
      const error = new ExternalServiceError('hubspot', 429, 'slow down', 2_000);
      expect(error.message).toBe('hubspot answered 429: slow down');
      expect(error.retryAfterMs).toBe(2_000);
    });
  });

  describe('node network error codes', () => {
    it.each([
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'EPIPE',
      'EAI_AGAIN',
      'ENOTFOUND',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'UND_ERR_CONNECT_TIMEOUT',
      'UND_ERR_HEADERS_TIMEOUT',
      'UND_ERR_SOCKET',
    ])('%s is transient', (code) => {
      expect(classifyError(withCode(code))).toBe('transient');
    });

    it('reads the code from plain objects too', () => {
      expect(classifyError({ code: 'ECONNRESET' })).toBe('transient');
    });
  });

  describe('PostgreSQL SQLSTATE codes', () => {
    it.each([
      ['08006', 'connection failure'],
      ['08001', 'unable to connect'],
      ['53300', 'too many connections'],
      ['53100', 'disk full'],
      ['57P01', 'admin shutdown'],
      ['57014', 'query canceled'],
      ['40001', 'serialization failure'],
      ['40P01', 'deadlock detected'],
      ['55P03', 'canceling statement due to lock timeout'],
    ])('%s (%s) is transient', (code, message) => {
      expect(classifyError(withCode(code, message))).toBe('transient');
    });

    it.each([
      ['23505', 'duplicate key value violates unique constraint'],
      ['23503', 'insert or update violates foreign key constraint'],
      ['42P01', 'relation "missing" does not exist'],
      ['42703', 'column "nope" does not exist'],
      ['22P02', 'invalid input syntax for type uuid'],
      ['55000', 'object not in prerequisite state'],
    ])('%s (%s) is permanent', (code, message) => {
      expect(classifyError(withCode(code, message))).toBe('permanent');
    });

    it('classifies by SQLSTATE before looking at the message', () => {
      expect(classifyError(withCode('23505', 'timeout'))).toBe('permanent');
    });

    it('ignores codes that are not five characters of SQLSTATE shape', () => {
      expect(classifyError(withCode('ERR_SOMETHING', 'odd'))).toBe('transient');
      expect(classifyError(withCode('2350', 'odd'))).toBe('transient');
    });

    it('ignores non-string codes', () => {
      expect(classifyError(Object.assign(new Error('odd'), { code: 23505 }))).toBe('transient');
    });
  });

  describe('messages', () => {
    it.each([
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'timeout exceeded when trying to connect',
      'Query read timeout',
      'operation timed out',
      'Connection is closed.',
      'connection lost',
      'connection refused',
      'Connection ended',
      'connect ECONNREFUSED 127.0.0.1:5432',
    ])('"%s" is transient', (message) => {
      expect(classifyError(new Error(message))).toBe('transient');
    });

    it('treats a TypeORM QueryFailedError without a SQLSTATE as permanent', () => {
      class QueryFailedError extends Error {}
      expect(classifyError(new QueryFailedError('syntax error at or near "SELEC"'))).toBe('permanent');
    });

    it('treats a TypeORMError as permanent', () => {
      class TypeORMError extends Error {}
      expect(classifyError(new TypeORMError('No metadata for "Thing" was found'))).toBe('permanent');
    });

    it('still retries a TypeORM error whose message says the connection broke', () => {
      class QueryFailedError extends Error {}
      expect(classifyError(new QueryFailedError('Connection terminated unexpectedly'))).toBe('transient');
    });
  });

  describe('unknown failures', () => {
    it.each([
      ['a plain Error', new Error('something unexpected')],
      ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
      ['a string', 'boom'],
      ['a number', 42],
      ['null', null],
      ['undefined', undefined],
      ['an empty object', {}],
    ])('%s is transient', (_label, error) => {
      expect(classifyError(error)).toBe('transient');
    });
  });
});

describe('describeError', () => {
  it('gives name and message of an Error', () => {
    expect(describeError(new Error('went wrong'))).toBe('Error: went wrong');
    expect(describeError(new TypeError('bad type'))).toBe('TypeError: bad type');
  });

  it('uses the name of our own error classes', () => {
    expect(describeError(new TransientError('later'))).toBe('TransientError: later');
    expect(describeError(new ContractViolationError(['a']))).toBe(
      'ContractViolationError: contract violation: a',
    );
  });

  it('stringifies anything that is not an Error', () => {
    expect(describeError('plain text')).toBe('plain text');
    expect(describeError(42)).toBe('42');
    expect(describeError(undefined)).toBe('undefined');
  });

  it('truncates long Error descriptions to 2000 characters', () => {
    const described = describeError(new Error('x'.repeat(5_000)));
    expect(described).toHaveLength(2_000);
    expect(described).toBe(`Error: ${'x'.repeat(2_000 - 'Error: '.length)}`);
  });

  it('truncates long non-Error values to 2000 characters', () => {
    expect(describeError('y'.repeat(2_001))).toBe('y'.repeat(2_000));
  });

  it('leaves a description of exactly 2000 characters alone', () => {
    expect(describeError('z'.repeat(2_000))).toBe('z'.repeat(2_000));
  });
});
