import { PROBLEM_CONTENT_TYPE, RequestValidationError, toProblemDetails } from '@inbox-bridge/service-kit';
import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { InvalidHubSpotSignatureError } from './hubspot-signature.guard.js';
import { HubSpotSignatureVerifier } from './hubspot-signature.verifier.js';
import { HUBSPOT_WEBHOOK_PATH } from './hubspot-webhook.controller.js';
import { HubSpotWebhookMetrics } from './hubspot-webhook.metrics.js';

function isParseFailure(error: unknown): error is Error {
  return error instanceof Error && (error as { type?: unknown }).type === 'entity.parse.failed';
}

/**
 * The JSON body parser runs before any guard, so a body that is not JSON never reaches the controller.
 * This Express error handler turns that failure into problem+json: on the webhook path the signature is
 * checked first (401 for an unsigned request, as for any other), then 400 naming the body.
 */
export function installBodyParseErrorHandler(app: INestApplication): void {
  const verifier = app.get(HubSpotSignatureVerifier, { strict: false });
  const metrics = app.get(HubSpotWebhookMetrics, { strict: false });
  app.use((error: unknown, request: Request, response: Response, next: NextFunction) => {
    if (!isParseFailure(error)) {
      next(error);
      return;
    }
    let problem: Error = new RequestValidationError([
      { field: '(body)', message: `not valid JSON: ${error.message}` },
    ]);
    if (request.path === HUBSPOT_WEBHOOK_PATH) {
      const verified = verifier.verify(request as Request & { rawBody?: Buffer }) === 'valid';
      metrics.count('other', verified ? 'invalid' : 'unauthorized');
      if (!verified) {
        problem = new InvalidHubSpotSignatureError();
      }
    }
    const { body } = toProblemDetails(problem);
    response.status(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  });
}
