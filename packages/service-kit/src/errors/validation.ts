import { Injectable, type PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { DomainError } from './domain-error.js';

export interface FieldError {
  /** Dotted path of the offending field (`items.0.id`), or `(body)` for the whole payload. */
  readonly field: string;
  readonly message: string;
}

export class RequestValidationError extends DomainError<'VALIDATION_FAILED'> {
  constructor(readonly errors: readonly FieldError[]) {
    super('VALIDATION_FAILED', 'The request is invalid.', { httpStatus: 400 });
  }
}

/** Parses `body` with `schema` or throws a 400 `RequestValidationError` naming each bad field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new RequestValidationError(
      result.error.issues.map((issue) => ({
        field: issue.path.length === 0 ? '(body)' : issue.path.map(String).join('.'),
        message: issue.message,
      })),
    );
  }
  return result.data;
}

/** Parses one path parameter with `schema` or throws a 400 `RequestValidationError` naming the parameter. */
export function parsePathParam<S extends z.ZodType>(name: string, schema: S, value: unknown): z.output<S> {
  const parsed = parseBody(z.object({ [name]: schema }), { [name]: value }) as Record<string, z.output<S>>;
  return parsed[name] as z.output<S>;
}

/** `@Body(new ZodValidationPipe(schema)) body: MyInput`. */
@Injectable()
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.output<S> {
    return parseBody(this.schema, value);
  }
}
