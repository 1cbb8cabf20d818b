import { correlationContext } from '@inbox-bridge/messaging';
import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { throwError, type Observable } from 'rxjs';
import { PROBLEM_CONTENT_TYPE, toProblemDetails } from './problem-details.js';

/**
 * Global filter for HTTP: every error becomes `application/problem+json`. Server faults are logged with
 * their stack; clients get a generic body. Outside HTTP (microservice handlers, via `inheritAppConfig`)
 * the error is passed on untouched for the transport's own error policy.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetailsFilter');

  catch(exception: unknown, host: ArgumentsHost): Observable<never> | undefined {
    if (host.getType() !== 'http') {
      return throwError(() => exception);
    }
    const { body, isServerFault } = toProblemDetails(exception);
    if (isServerFault) {
      if (exception instanceof Error) {
        this.logger.error(exception);
      } else {
        this.logger.error({ thrown: String(exception) }, 'non-error value thrown');
      }
    }
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    if (response.headersSent) {
      return undefined;
    }
    const correlationId = correlationContext.current()?.correlationId;
    // A request refused before its body was read (an unsupported charset, say) is answered once the client has sent
    // it all: `answerAfterRequestBody` holds the end of every response until then.
    response
      .status(body.status)
      .type(PROBLEM_CONTENT_TYPE)
      .send(JSON.stringify(correlationId === undefined ? body : { ...body, correlationId }));
    return undefined;
  }
}
