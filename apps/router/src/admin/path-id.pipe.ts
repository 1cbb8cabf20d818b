import { parsePathParam } from '@inbox-bridge/service-kit';
import { idSchema } from '@inbox-bridge/shared';
import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';

/**
 * A path id checked like every id of the contracts (printable, no whitespace, bounded) before it reaches SQL:
 * PostgreSQL refuses a NUL in text, which would be a 500 instead of a 400 naming the parameter.
 */
@Injectable()
export class PathIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown, metadata: ArgumentMetadata): string {
    return parsePathParam(metadata.data ?? 'id', idSchema, value);
  }
}
