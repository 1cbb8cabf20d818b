import type { NextFunction, Request, Response } from 'express';
import { drainRequestBody } from './drain-request-body.js';

/**
 * Express middleware (first in the chain): a response to a request whose body nobody read (a handler that needs no
 * body, a guard's refusal, a type no parser takes) is ended only once the client has sent the body, read and
 * dropped (up to 16 MB or 10 s). Ending at once and closing the connection (a client without keep-alive) makes the
 * kernel reset it while the client still writes, and the client sees EPIPE instead of the answer.
 */
export function answerAfterRequestBody(req: Request, res: Response, next: NextFunction): void {
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  res.end = ((...args: unknown[]): Response => {
    if (req.complete || req.destroyed) {
      return end(...args);
    }
    void drainRequestBody(req).then(() => end(...args));
    return res;
  }) as Response['end'];
  next();
}
