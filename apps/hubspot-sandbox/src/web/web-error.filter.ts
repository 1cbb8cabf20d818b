import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { toHubSpotError } from '../common/hubspot-error.filter.js';
import { html, layout } from './html.js';

/** The web inbox answers errors as pages (404 for unknown portals, threads, contacts; 400 for bad input). */
@Catch()
export class WebErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (response.headersSent) {
      return;
    }
    const error = toHubSpotError(exception);
    const message = typeof error.body.message === 'string' ? error.body.message : 'Something went wrong';
    const title = error.httpStatus === 404 ? 'Not found' : `Error ${error.httpStatus}`;
    response
      .status(error.httpStatus)
      .type('html')
      .send(
        layout(
          title,
          undefined,
          html`<h1>${title}</h1>
            <p class="error" role="alert">${message}</p>
            <p><a href="javascript:history.back()">Back</a> · <a href="/ui">All portals</a></p>`,
        ),
      );
  }
}
