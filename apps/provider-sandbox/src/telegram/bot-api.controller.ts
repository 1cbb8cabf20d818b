import { All, Controller, Get, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import multer from 'multer';
import { setTimeout as sleep } from 'node:timers/promises';
import { BotApiError, EntityTooLargeError } from './bot-api.error.js';
import { BotApiParams, type UploadedFile } from './bot-api.params.js';
import { BotApiService, LIMITS } from './bot-api.service.js';
import { BOT_TOKEN_PATTERN, type BotRecord } from './stores/bot.store.js';
import { TelegramState } from './telegram.state.js';

const upload = multer({
  storage: multer.memoryStorage(),
  limits: { fileSize: LIMITS.uploadOtherBytes, files: 20 },
}).any();

const TOO_LARGE_HTML =
  '<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n';

/**
 * `https://api.telegram.org` as the sandbox serves it: `/bot<token>/<method>` (GET or POST; query, form,
 * JSON or multipart parameters) answering the `{ok,result}` envelope, and `/file/bot<token>/<file_path>`.
 * Errors never reach the global problem+json filter: the envelope is written here.
 */
@Controller()
export class BotApiController {
  constructor(
    private readonly state: TelegramState,
    private readonly api: BotApiService,
  ) {}

  @All('bot:token/:method')
  async call(
    @Param('token') token: string,
    @Param('method') method: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    let bot: BotRecord | undefined;
    let params = new BotApiParams({});
    try {
      if (!BOT_TOKEN_PATTERN.test(token)) {
        throw BotApiError.notFound();
      }
      bot = this.state.bots.authenticate(token);
      params = await readParams(req, res);
      if (!this.api.supports(method)) {
        throw new BotApiError(404, 'Not Found: method not found');
      }
      const fault = this.state.faults.match(bot.id, method);
      if (fault !== undefined && fault.latencyMs > 0) {
        await sleep(fault.latencyMs);
      }
      if (fault?.error !== undefined) {
        throw fault.error;
      }
      const outcome = await this.api.call(bot, method, params);
      const body = {
        ok: true,
        result: outcome.result,
        ...(outcome.description === undefined ? {} : { description: outcome.description }),
      };
      this.record(bot, method, req, params, 200, body);
      res.status(200).json(body);
    } catch (error) {
      if (error instanceof EntityTooLargeError) {
        if (bot !== undefined) {
          this.record(bot, method, req, params, 413, 'Request Entity Too Large');
        }
        res.status(413).type('text/html').send(TOO_LARGE_HTML);
        return;
      }
      const failure = error instanceof BotApiError ? error : new BotApiError(500, 'Internal Server Error');
      const body = {
        ok: false,
        error_code: failure.errorCode,
        description: failure.description,
        ...(failure.parameters === undefined ? {} : { parameters: failure.parameters }),
      };
      if (bot !== undefined) {
        this.record(bot, method, req, params, failure.errorCode, body);
      }
      if (failure.parameters?.retry_after !== undefined) {
        res.setHeader('Retry-After', String(failure.parameters.retry_after));
      }
      res.status(failure.errorCode).json(body);
    }
  }

  /** `/bot<token>` with no method, and other malformed Bot API paths. */
  @All('bot:token')
  malformed(@Res() res: Response): void {
    res.status(404).json({ ok: false, error_code: 404, description: 'Not Found' });
  }

  @Get('file/bot:token/*filePath')
  download(
    @Param('token') token: string,
    @Param('filePath') filePath: string | string[],
    @Res() res: Response,
  ): void {
    const path = Array.isArray(filePath) ? filePath.join('/') : filePath;
    const bot = BOT_TOKEN_PATTERN.test(token)
      ? this.state.bots.all().find((b) => b.token === token)
      : undefined;
    if (bot === undefined || bot.revoked) {
      res.status(401).json({ ok: false, error_code: 401, description: 'Unauthorized' });
      return;
    }
    const record = this.state.files.findByPath(bot.id, path);
    if (record?.bytes === undefined) {
      res.status(404).json({ ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    res.status(200).type(record.mimeType).setHeader('Content-Length', String(record.bytes.length));
    res.end(record.bytes);
  }

  private record(
    bot: BotRecord,
    method: string,
    req: Request,
    params: BotApiParams,
    status: number,
    response: unknown,
  ): void {
    this.state.recordCall(bot.id, {
      method,
      httpMethod: req.method,
      params: params.summary(),
      status,
      response,
      at: new Date().toISOString(),
    });
  }
}

async function readParams(req: Request, res: Response): Promise<BotApiParams> {
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(req.query)) {
    values[name] = Array.isArray(value) ? value[0] : value;
  }
  const files = new Map<string, UploadedFile>();
  if (req.is('multipart/form-data') !== false && req.is('multipart/form-data') !== null) {
    await new Promise<void>((resolve, reject) => {
      upload(req, res, (error: unknown) => {
        if (error instanceof multer.MulterError && error.code === 'LIMIT_FILE_SIZE') {
          reject(new EntityTooLargeError());
        } else if (error !== undefined && error !== null) {
          reject(BotApiError.badRequest('invalid multipart request'));
        } else {
          resolve();
        }
      });
    });
    for (const file of (req.files as Express.Multer.File[] | undefined) ?? []) {
      files.set(file.fieldname, {
        fieldName: file.fieldname,
        fileName: file.originalname,
        mimeType: file.mimetype,
        bytes: file.buffer,
      });
    }
  }
  const body: unknown = req.body;
  if (typeof body === 'object' && body !== null && !Buffer.isBuffer(body)) {
    Object.assign(values, body);
  }
  return new BotApiParams(values, files);
}
