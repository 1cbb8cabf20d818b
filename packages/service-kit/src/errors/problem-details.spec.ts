import { describe, expect, it } from '@jest/globals';
import {
  BadRequestException,
  ConflictException,
  HttpException,
  InternalServerErrorException,
  NotFoundException,
} from '@nestjs/common';
import { z } from 'zod';
import { DomainError } from './domain-error.js';
import { toProblemDetails } from './problem-details.js';
import { parseBody, RequestValidationError } from './validation.js';

describe('toProblemDetails', () => {
  it('maps a DomainError by its code and status hint', () => {
    const mapped = toProblemDetails(
      new DomainError('CHANNEL_ACCOUNT_NOT_FOUND', 'No channel account 42 for this portal.', {
        httpStatus: 404,
        details: { internal: 'db row 42' },
      }),
    );
    expect(mapped).toEqual({
      isServerFault: false,
      body: {
        type: 'urn:inbox-bridge:problem:channel-account-not-found',
        title: 'Not Found',
        status: 404,
        detail: 'No channel account 42 for this portal.',
        code: 'CHANNEL_ACCOUNT_NOT_FOUND',
      },
    });
  });

  it("sends a DomainError's extension members, which never replace a standard member", () => {
    const mapped = toProblemDetails(
      new DomainError('ADDRESS_IN_USE', 'The bot is connected already.', {
        httpStatus: 409,
        extensions: { channelAccountId: '42', status: 200, code: 'OTHER' },
      }),
    );
    expect(mapped.body).toEqual({
      type: 'urn:inbox-bridge:problem:address-in-use',
      title: 'Conflict',
      status: 409,
      detail: 'The bot is connected already.',
      code: 'ADDRESS_IN_USE',
      channelAccountId: '42',
    });
  });

  it('defaults a DomainError without a hint to 422', () => {
    expect(toProblemDetails(new DomainError('PORTAL_SUSPENDED', 'Portal is suspended.')).body.status).toBe(
      422,
    );
  });

  it('maps Nest HttpExceptions to status-derived codes', () => {
    expect(toProblemDetails(new NotFoundException('Cannot GET /nope')).body).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'Cannot GET /nope',
      code: 'NOT_FOUND',
    });
    expect(
      toProblemDetails(new ConflictException({ code: 'ALREADY_INSTALLED', message: 'Already installed.' }))
        .body,
    ).toMatchObject({
      status: 409,
      code: 'ALREADY_INSTALLED',
      detail: 'Already installed.',
    });
    expect(toProblemDetails(new HttpException('slow down', 429)).body.code).toBe('TOO_MANY_REQUESTS');
  });

  it('maps Nest validation errors (message arrays) to a 400 with errors', () => {
    const mapped = toProblemDetails(
      new BadRequestException(['email must be an email', 'age must be a number']),
    );
    expect(mapped.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(mapped.body.errors).toHaveLength(2);
  });

  it('maps zod body validation to a 400 naming each field', () => {
    const schema = z.object({
      portalId: z.number().int(),
      text: z.string().min(1),
      items: z.array(z.object({ id: z.string() })),
    });
    let error: unknown;
    try {
      parseBody(schema, { portalId: 'x', text: '', items: [{ id: 1 }] });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RequestValidationError);
    const { body } = toProblemDetails(error);
    expect(body.status).toBe(400);
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.errors?.map((fieldError) => fieldError.field)).toEqual(['portalId', 'text', 'items.0.id']);
    expect(parseBody(schema, { portalId: 1, text: 'hi', items: [] })).toEqual({
      portalId: 1,
      text: 'hi',
      items: [],
    });
  });

  it('never leaks internals of unknown errors or 5xx', () => {
    const unknown = toProblemDetails(new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2'));
    expect(unknown).toEqual({
      isServerFault: true,
      body: {
        type: 'about:blank',
        title: 'Internal Server Error',
        status: 500,
        detail: 'An unexpected error occurred.',
        code: 'INTERNAL_ERROR',
      },
    });
    expect(
      JSON.stringify(toProblemDetails(new InternalServerErrorException('stack trace here')).body),
    ).not.toContain('stack trace here');
    expect(
      toProblemDetails(new DomainError('DECRYPTION_FAILED', 'tag mismatch', { httpStatus: 500 })).body.code,
    ).toBe('INTERNAL_ERROR');
    expect(toProblemDetails('a string').body.status).toBe(500);
  });
});
