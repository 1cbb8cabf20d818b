import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { HubSpotError } from './hubspot-error.js';

/**
 * Answers every error of the emulated API in HubSpot's shapes instead of service-kit's problem+json:
 * `HubSpotError` as built, Nest's own (404 route, body-parser 400) mapped to the §1.9 envelope.
 */
@Catch()
export class HubSpotErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HubSpotErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (response.headersSent) {
      return;
    }
    const error = toHubSpotError(exception);
    if (error.httpStatus >= 500) {
      this.logger.error(exception instanceof Error ? exception : { thrown: String(exception) });
    }
    for (const [name, value] of Object.entries(error.headers)) {
      response.setHeader(name, value);
    }
    // One id per request: the body's correlationId matches the x-correlation-id header set by service-kit.
    const requestId = response.getHeader('x-correlation-id');
    const body =
      typeof requestId === 'string' && 'correlationId' in error.body
        ? { ...error.body, correlationId: requestId }
        : error.body;
    response.status(error.httpStatus).json(body);
  }
}

export function toHubSpotError(exception: unknown): HubSpotError {
  if (exception instanceof HubSpotError) {
    return exception;
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status === 404) {
      return HubSpotError.notFound(exception.message);
    }
    if (status === 400 || status === 413 || status === 415) {
      return HubSpotError.envelope(status, 'VALIDATION_ERROR', `Invalid input JSON: ${exception.message}`);
    }
    return HubSpotError.envelope(status, 'ERROR', exception.message);
  }
  if (isBodyParserError(exception)) {
    return HubSpotError.envelope(
      exception.status,
      'VALIDATION_ERROR',
      `Invalid input JSON: ${exception.message}`,
    );
  }
  return HubSpotError.envelope(500, 'INTERNAL_ERROR', 'internal error');
}

function isBodyParserError(value: unknown): value is { status: number; message: string } {
  return (
    value instanceof Error &&
    typeof (value as { status?: unknown }).status === 'number' &&
    typeof (value as { type?: unknown }).type === 'string'
  );
}
