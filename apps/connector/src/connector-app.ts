import {
  createServiceApp,
  installRawHttpRoutes,
  PROBLEM_CONTENT_TYPE,
  RequestValidationError,
  toProblemDetails,
} from '@inbox-bridge/service-kit';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { AppModule } from './app.module.js';
import { connectorConfigSchema, type ConnectorConfig } from './config/connector.config.js';
import { ProviderWebhookRoutes } from './inbound/provider-webhook.routes.js';

function isParseFailure(error: unknown): error is Error {
  return error instanceof Error && (error as { type?: unknown }).type === 'entity.parse.failed';
}

/** A body the parser cannot read (malformed JSON or form) is a 400 problem naming the body, not a 500. */
export function installBodyParseErrorHandler(app: INestApplication): void {
  app.use((error: unknown, _request: Request, response: Response, next: NextFunction) => {
    if (!isParseFailure(error)) {
      next(error);
      return;
    }
    const { body } = toProblemDetails(
      new RequestValidationError([{ field: '(body)', message: `not readable: ${error.message}` }]),
    );
    response.status(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  });
}

/** The connector exactly as main.ts runs it (tests start it through here too, so nothing is left out). */
export async function createConnectorApp(config: ConnectorConfig): Promise<NestExpressApplication> {
  const app = await createServiceApp(AppModule.forRoot(config), {
    config,
    configSchema: connectorConfigSchema,
  });
  installBodyParseErrorHandler(app);
  installRawHttpRoutes(app, app.get(ProviderWebhookRoutes, { strict: false }).routes());
  return app;
}
