import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  UploadedFiles,
  UseFilters,
  UseInterceptors,
} from '@nestjs/common';
import { AnyFilesInterceptor } from '@nestjs/platform-express';
import type { Request, Response } from 'express';
import { HubSpotErrorFilter } from '../common/hubspot-error.filter.js';
import { HubSpotError } from '../common/hubspot-error.js';
import { detail, invalidInput } from '../common/validation.js';
import { assertQuery } from '../crm/crm-objects.js';
import { TokenService } from '../oauth/token.service.js';
import { FILE_ACCESS, type FileAccess } from './file.store.js';
import { FilesService, isHidden, originOf, type UploadedPart } from './files.service.js';

const WRITE = ['files'];
const READ = ['files', 'files.read'];
const HIDDEN_WRITE = ['files.ui_hidden.write'];
const HIDDEN_READ = ['files.ui_hidden.read', 'files.ui_hidden.write'];

/** `/files/v3/files` and `/files/2026-03/files` (§5.1). */
@Controller(['files/v3/files', 'files/2026-03/files'])
@UseFilters(HubSpotErrorFilter)
export class FilesController {
  constructor(
    private readonly tokens: TokenService,
    private readonly files: FilesService,
  ) {}

  /** 201 with the File; 200 when `RETURN_EXISTING` found a duplicate or `overwrite` replaced a file. */
  @Post()
  @UseInterceptors(AnyFilesInterceptor())
  upload(
    @Headers('authorization') auth: string | undefined,
    @Headers('content-type') contentType: string | undefined,
    @Body() fields: Record<string, unknown> | undefined,
    @UploadedFiles() parts: UploadedPart[] | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Record<string, unknown> {
    this.tokens.authenticate(auth, [...WRITE, ...HIDDEN_WRITE]);
    if (!(contentType ?? '').toLowerCase().startsWith('multipart/form-data')) {
      throw HubSpotError.envelope(
        415,
        'VALIDATION_ERROR',
        'Unsupported content type: expected multipart/form-data',
      );
    }
    const upload = this.files.parseUpload(fields ?? {}, parts ?? []);
    const token = this.tokens.authenticate(auth, isHidden(upload.options.access) ? HIDDEN_WRITE : WRITE);
    const { file, existing } = this.files.store(token.portalId, upload);
    res.status(existing ? 200 : 201);
    return this.files.toPublicFile(file, originOf(req));
  }

  /** 202 with the task locator; HubSpot fetches the URL in the background. */
  @Post('import-from-url/async')
  @HttpCode(202)
  importFromUrl(
    @Headers('authorization') auth: string | undefined,
    @Body() body: unknown,
    @Req() req: Request,
  ): Record<string, unknown> {
    const access = (body as { access?: unknown } | undefined)?.access;
    const token = this.tokens.authenticate(
      auth,
      typeof access === 'string' &&
        FILE_ACCESS.includes(access as FileAccess) &&
        isHidden(access as FileAccess)
        ? HIDDEN_WRITE
        : WRITE,
    );
    const task = this.files.importFromUrl(token.portalId, body);
    const prefix = req.path.startsWith('/files/2026-03') ? '/files/2026-03/files' : '/files/v3/files';
    return {
      id: task.id,
      links: { status: `${originOf(req)}${prefix}/import-from-url/async/tasks/${task.id}/status` },
    };
  }

  @Get('import-from-url/async/tasks/:taskId/status')
  importStatus(
    @Headers('authorization') auth: string | undefined,
    @Param('taskId') taskId: string,
    @Query() query: Record<string, unknown>,
    @Req() req: Request,
  ): Record<string, unknown> {
    const token = this.tokens.authenticate(auth, [...READ, ...HIDDEN_READ]);
    assertQuery(query, []);
    return this.files.toPublicTask(this.files.importTask(token.portalId, taskId), originOf(req));
  }

  @Get(':fileId')
  get(
    @Headers('authorization') auth: string | undefined,
    @Param('fileId') fileId: string,
    @Query() query: Record<string, unknown>,
    @Req() req: Request,
  ): Record<string, unknown> {
    const file = this.readable(auth, fileId, () => {
      assertQuery(query, ['properties']);
    });
    return this.files.toPublicFile(file, originOf(req));
  }

  @Get(':fileId/signed-url')
  signedUrl(
    @Headers('authorization') auth: string | undefined,
    @Param('fileId') fileId: string,
    @Query() query: Record<string, unknown>,
    @Req() req: Request,
  ): Record<string, unknown> {
    const file = this.readable(auth, fileId, () => {
      assertQuery(query, ['expirationSeconds', 'size', 'upscale'], {
        expirationSeconds: { min: 1, max: 31_536_000 },
      });
      if (
        query.size !== undefined &&
        (typeof query.size !== 'string' || !['icon', 'medium', 'preview', 'thumb'].includes(query.size))
      ) {
        throw invalidInput([
          detail(
            'Invalid value for query parameter "size": expected one of icon, medium, preview, thumb',
            'INVALID_ENUM_VALUE',
            'query',
            'size',
          ),
        ]);
      }
    });
    const seconds = query.expirationSeconds === undefined ? 3600 : Number(query.expirationSeconds);
    return this.files.signedUrl(file, originOf(req), seconds);
  }

  /** Any read scope first, then the query checks, then the scope the file's access level needs. */
  private readable(auth: string | undefined, fileId: string, checkQuery: () => void) {
    const token = this.tokens.authenticate(auth, [...READ, ...HIDDEN_READ]);
    checkQuery();
    const file = this.files.get(token.portalId, fileId);
    this.tokens.authenticate(auth, isHidden(file.access) ? HIDDEN_READ : READ);
    return file;
  }
}

/** The file host: `/hubfs/{portalId}/{path}` (public files, or signed URLs of private ones). */
@Controller('hubfs')
export class FileHostController {
  constructor(private readonly files: FilesService) {}

  @Get(':portalId/{*path}')
  download(
    @Param('portalId') portalId: string,
    @Param('path') path: string[] | string,
    @Query() query: Record<string, unknown>,
    @Res() res: Response,
  ): void {
    const segments = Array.isArray(path) ? path : [path];
    const file = this.files.download(Number(portalId), `/${segments.join('/')}`, query);
    if (file === undefined) {
      res.status(404).type('text/plain').send('Not Found');
    } else if (file === 'FORBIDDEN') {
      res.status(403).type('text/plain').send('Forbidden: missing, invalid or expired signature');
    } else {
      res.status(200).type(file.mimeType).setHeader('Content-Length', String(file.size));
      res.end(file.bytes);
    }
  }
}
