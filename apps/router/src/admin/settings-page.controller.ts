import { holdsUnstorableText, type FieldError, type SettingsLinkParams } from '@inbox-bridge/service-kit';
import { Body, Controller, Get, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { AdminPortal, SettingsAuthGuard, SettingsLink } from './admin-auth.guard.js';
import { PathIdPipe } from './path-id.pipe.js';
import { NotFoundInPortalError, RoutingAdminService } from './routing-admin.service.js';
import { formFromRules, rulesFromForm, type SettingsForm } from './settings-form.js';
import { renderAccountPendingPage, renderSettingsPage } from './settings-page.js';

const ACCOUNT_PENDING_RETRY_SECONDS = 2;

/**
 * The settings page of one channel account, opened with a signed link
 * (`GET /settings/:channelAccountId?ref=&exp=&sig=`, linked from the connection popup's last step) or a
 * bearer token, and posting back to itself with the link's parameters as hidden fields.
 */
@Controller('settings')
@UseGuards(SettingsAuthGuard)
export class SettingsPageController {
  constructor(private readonly admin: RoutingAdminService) {}

  @Get(':channelAccountId')
  async page(
    @AdminPortal() portalId: number,
    @Param('channelAccountId', PathIdPipe) channelAccountId: string,
    @SettingsLink() link: SettingsLinkParams | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    const view = await this.admin.rules(portalId, channelAccountId).catch((error: unknown) => {
      if (error instanceof NotFoundInPortalError && link !== undefined) {
        return undefined;
      }
      throw error;
    });
    setPageHeaders(response);
    if (view === undefined) {
      // The gateway signed this link for an account it has just connected; the router hears of the account
      // from `gateway.channel-account.connected.v1` a moment later. A 404 here would send the admin away.
      response.status(503);
      response.setHeader('retry-after', String(ACCOUNT_PENDING_RETRY_SECONDS));
      return renderAccountPendingPage(channelAccountId, ACCOUNT_PENDING_RETRY_SECONDS);
    }
    const directory = await this.admin.directory(portalId);
    return renderSettingsPage({
      channelAccountId,
      accountName: view.name,
      link,
      form: formFromRules(view.rules),
      errors: [],
      saved: false,
      directory,
    });
  }

  @Post(':channelAccountId')
  @HttpCode(200)
  async save(
    @AdminPortal() portalId: number,
    @Param('channelAccountId', PathIdPipe) channelAccountId: string,
    @Body() body: unknown,
    @SettingsLink() link: SettingsLinkParams | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    const view = await this.admin.rules(portalId, channelAccountId);
    const directory = await this.admin.directory(portalId);
    const form = formOf(body);
    const unstorable = unstorableFields(form);
    const parsed = unstorable.length > 0 ? { errors: unstorable } : rulesFromForm(form);
    setPageHeaders(response);
    if ('errors' in parsed) {
      response.status(400);
      return renderSettingsPage({
        channelAccountId,
        accountName: view.name,
        link,
        form,
        errors: parsed.errors,
        saved: false,
        directory,
      });
    }
    const saved = await this.admin.saveRules(portalId, channelAccountId, parsed.rules);
    return renderSettingsPage({
      channelAccountId,
      accountName: saved.name,
      link,
      form: formFromRules(saved.rules),
      errors: [],
      saved: true,
      directory,
    });
  }
}

/** An HTML page that is never cached, leaks no referrer and runs no script. */
function setPageHeaders(response: Response): void {
  response.setHeader('content-type', 'text/html; charset=utf-8');
  response.setHeader('cache-control', 'no-store');
  response.setHeader('referrer-policy', 'no-referrer');
  response.setHeader(
    'content-security-policy',
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
  );
}

/** Fields PostgreSQL could not store (a NUL, a lone surrogate): refused on the page instead of a 500 on save. */
function unstorableFields(form: SettingsForm): FieldError[] {
  return Object.entries(form)
    .filter(([, value = '']) => holdsUnstorableText(value))
    .map(([field]) => ({ field, message: 'holds a character that cannot be stored' }));
}

function formOf(body: unknown): SettingsForm {
  if (typeof body !== 'object' || body === null) {
    return {};
  }
  return Object.fromEntries(
    Object.entries(body as Record<string, unknown>).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
}
