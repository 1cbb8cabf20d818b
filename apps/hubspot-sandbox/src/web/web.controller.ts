import {
  Body,
  Controller,
  Get,
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
import { ChannelAccountService, connectionPopupUrl } from '../api/channel-account.service.js';
import { MessageService } from '../api/message.service.js';
import { HubSpotErrorFilter } from '../common/hubspot-error.filter.js';
import { HubSpotError } from '../common/hubspot-error.js';
import { detail, invalidInput } from '../common/validation.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { CrmStore, type ContactRecord } from '../crm/crm.store.js';
import { FilesService, originOf, replyAttachments, type UploadedPart } from '../files/files.service.js';
import { ChannelAccountStore, type ChannelAccount } from '../store/channel-account.store.js';
import { ChannelStore, type Channel } from '../store/channel.store.js';
import { MessageStore, type StoredMessage, type Thread } from '../store/message.store.js';
import { PortalStore, type Portal, type SandboxUser } from '../store/portal.store.js';
import { TokenStore } from '../store/token.store.js';
import { renderAttachment, type FileLookup } from './attachments.view.js';
import { html, layout, SafeHtml, safeUrl } from './html.js';
import { WebErrorFilter } from './web-error.filter.js';

const CUSTOM_CHANNEL_SCOPES = ['conversations.custom_channels.read', 'conversations.custom_channels.write'];

const field = (body: unknown, name: string): string | undefined => {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
};

const userName = (user: SandboxUser) =>
  [user.firstName, user.lastName].filter(Boolean).join(' ') || user.email;

const contactName = (contact: ContactRecord) =>
  [contact.properties.firstname, contact.properties.lastname].filter(Boolean).join(' ') ||
  (contact.properties.email ?? `Contact ${contact.id}`);

const when = (iso: string) => iso.replace('T', ' ').slice(0, 16);

/** Opens the app's pop-up, then reloads when the pop-up reports the connection or closes. */
const CONNECT_SCRIPT = new SafeHtml(`
document.querySelectorAll('form.connect').forEach(function (form) {
  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    var popup = window.open('about:blank', 'hs-connect-channel', 'popup,width=600,height=600');
    var response = await fetch(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form)) });
    var answer = await response.json().catch(function () { return {}; });
    if (!response.ok || !answer.popupUrl) {
      if (popup) popup.close();
      document.getElementById('connect-error').textContent = answer.message || 'Could not start the connection';
      return;
    }
    if (!popup) popup = window.open(answer.popupUrl, 'hs-connect-channel', 'popup,width=600,height=600');
    else popup.location.href = answer.popupUrl;
    if (!popup) return;
    var timer = setInterval(function () {
      if (popup.closed) { clearInterval(timer); window.location.reload(); }
    }, 250);
  });
});
window.addEventListener('message', function (event) {
  if (event.origin === window.location.origin && event.data && event.data.type === 'hs-channel-connected') {
    window.location.href = window.location.pathname + '?connected=' + encodeURIComponent(event.data.accountId);
  }
});`);

/**
 * Live updates on a thread page: polls the thread's version and reloads when it changed (a customer wrote, the
 * app reported a status, someone reassigned), unless the rep is typing a reply or picked a file.
 */
const THREAD_POLL_SCRIPT = new SafeHtml(`
var timeline = document.getElementById('timeline');
var known = timeline ? timeline.dataset.version : undefined;
function idle() {
  var text = document.getElementById('reply-text');
  var file = document.querySelector('#reply input[type=file]');
  return (!text || text.value === '') && (!file || file.files.length === 0);
}
setInterval(function () {
  fetch(window.location.pathname + '/version', { cache: 'no-store' })
    .then(function (response) { return response.ok ? response.text() : known; })
    .then(function (version) { if (version !== known && idle()) window.location.reload(); })
    .catch(function () {});
}, 1500);`);

/** The landing page of `redirectUrl` in the pop-up: tell the settings page, then close. */
const CONNECTED_SCRIPT = new SafeHtml(`
var accountId = document.body.querySelector('[data-account-id]');
if (window.opener && accountId) {
  window.opener.postMessage({ type: 'hs-channel-connected', accountId: accountId.dataset.accountId }, window.location.origin);
  setTimeout(function () { window.close(); }, 300);
}`);

/**
 * The web inbox (`/ui/…`): Settings → Inbox ("Connect a channel", channel accounts), the inbox with its
 * threads, a thread with media, assignee and reply editor, and a contact's conversations. Not a HubSpot
 * API; it acts through the same services as the API and the control API, so the same webhooks fire.
 */
@Controller('ui')
@UseFilters(WebErrorFilter)
export class WebController {
  constructor(
    private readonly portals: PortalStore,
    private readonly channels: ChannelStore,
    private readonly accountStore: ChannelAccountStore,
    private readonly accounts: ChannelAccountService,
    private readonly messageStore: MessageStore,
    private readonly messages: MessageService,
    private readonly conversations: ConversationsService,
    private readonly crm: CrmStore,
    private readonly files: FilesService,
    private readonly tokens: TokenStore,
  ) {}

  @Get()
  home(@Res() res: Response): void {
    const portals = this.portals.list();
    this.send(
      res,
      layout(
        'Portals',
        undefined,
        html`<h1>Portals</h1>
          ${portals.length === 0 ? html`<p class="muted">No portal yet: seed one with <code>POST /__sandbox/portals</code>.</p>` : ''}
          <table>
            <tr>
              <th>Portal</th>
              <th>Domain</th>
              <th></th>
            </tr>
            ${portals.map(
              (portal) =>
                html`<tr>
                  <td>${portal.hubId}</td>
                  <td>${portal.domain}</td>
                  <td>
                    <a href="/ui/${portal.hubId}/inbox">Inbox</a> ·
                    <a href="/ui/${portal.hubId}/settings/inbox">Settings → Inbox</a>
                  </td>
                </tr>`,
            )}
          </table>`,
      ),
    );
  }

  // ---- Settings → Inbox -------------------------------------------------------------------------

  @Get(':hubId/settings/inbox')
  settings(
    @Param('hubId') hubId: string,
    @Query('connected') connected: unknown,
    @Res() res: Response,
  ): void {
    const portal = this.portal(hubId);
    const channels = this.channels.list().filter((channel) => this.connectable(channel, portal.hubId));
    const accounts = this.accountStore
      .portalAccounts(portal.hubId)
      .filter((account) => !account.archived)
      .sort((left, right) => Number(left.id) - Number(right.id));
    const justConnected = accounts.find((account) => account.id === connected);
    const inboxOptions = portal.inboxes.map(
      (inbox) =>
        html`<option value="${inbox.id}">
          ${inbox.name}${inbox.type === 'HELP_DESK' ? ' (help desk)' : ''}
        </option>`,
    );
    const channelCards = channels.map(
      (channel) =>
        html`<div class="card channel" data-channel-id="${channel.id}">
          <div>${this.logo(channel)} <strong>${channel.name}</strong></div>
          <div class="muted">${channel.channelDescription ?? 'No description'}</div>
          <form class="connect" method="post" action="/ui/${portal.hubId}/settings/inbox/connect">
            <input type="hidden" name="channelId" value="${channel.id}" />
            <label
              >Inbox
              <select name="inboxId">
                ${inboxOptions}
              </select></label
            >
            <p><button type="submit">Continue with ${channel.name}</button></p>
          </form>
        </div>`,
    );
    const accountRows = accounts.map((account) => this.accountRow(portal, account));
    this.send(
      res,
      layout(
        'Settings → Inbox',
        portal.hubId,
        html`<h1>Inbox settings</h1>
          ${justConnected === undefined ? '' : html`<div class="flash" role="status">Connected <strong>${justConnected.name}</strong>. Incoming messages will appear in the inbox.</div>`}
          <h2>Connect a channel</h2>
          <p id="connect-error" class="muted" role="alert"></p>
          ${channels.length === 0 ? html`<p class="muted">No custom channel is registered. If yours is missing, install the app or authorise it again.</p>` : html`<div class="channels">${channelCards}</div>`}
          <h2>Connected channel accounts</h2>
          ${
            accounts.length === 0
              ? html`<p class="muted">No channel account yet.</p>`
              : html`<table id="accounts">
                  <tr>
                    <th>Account</th>
                    <th>Channel</th>
                    <th>Inbox</th>
                    <th>Status</th>
                    <th>Actions</th>
                  </tr>
                  ${accountRows}
                </table>`
          }`,
        CONNECT_SCRIPT,
      ),
    );
  }

  /** "Continue with <channel>": a staging token and the pop-up URL with the five parameters (§1.6). JSON. */
  @Post(':hubId/settings/inbox/connect')
  @UseFilters(HubSpotErrorFilter)
  connect(@Param('hubId') hubId: string, @Body() body: unknown, @Req() req: Request) {
    const portal = this.portal(hubId);
    const channel = this.channels.get(field(body, 'channelId') ?? '');
    const admin = portal.users[0];
    if (channel === undefined || !this.connectable(channel, portal.hubId) || admin === undefined) {
      throw HubSpotError.notFound(
        'Channel not found (or its app is not installed here), or the portal has no user',
      );
    }
    if (channel.channelAccountConnectionRedirectUrl === undefined) {
      throw invalidInput([
        detail(
          `${channel.name} has no channelAccountConnectionRedirectUrl`,
          'INVALID_VALUE',
          'body',
          'channelId',
        ),
      ]);
    }
    const token = this.accounts.createStagingToken({
      portalId: portal.hubId,
      channel,
      inboxId: field(body, 'inboxId') ?? '',
      userId: admin.id,
    });
    const redirectUrl = new URL(`/ui/${portal.hubId}/settings/inbox/connected`, originOf(req));
    redirectUrl.searchParams.set('accountToken', token.accountToken);
    return {
      accountToken: token.accountToken,
      popupUrl: connectionPopupUrl(channel, token, redirectUrl.toString()),
    };
  }

  /**
   * A channel appears in "Connect a channel" only once its app is installed in the portal with a custom-channels
   * scope (§1.6: the admin of a portal that installed the app), so the app's pop-up always has a token to use.
   */
  private connectable(channel: Channel, hubId: number): boolean {
    return (
      !channel.archived &&
      CUSTOM_CHANNEL_SCOPES.some((scope) => this.tokens.isInstalled(channel.appId, hubId, scope))
    );
  }

  /** `redirectUrl`: where the app sends the pop-up once it finished the staging token. */
  @Get(':hubId/settings/inbox/connected')
  connected(
    @Param('hubId') hubId: string,
    @Query('accountToken') accountToken: unknown,
    @Res() res: Response,
  ): void {
    const portal = this.portal(hubId);
    const staging = this.accountStore.stagingToken(typeof accountToken === 'string' ? accountToken : '');
    if (staging?.portalId !== portal.hubId) {
      throw HubSpotError.notFound('Unknown account token');
    }
    const account =
      staging.channelAccountId === undefined ? undefined : this.accountStore.get(staging.channelAccountId);
    this.send(
      res,
      layout(
        'Channel connected',
        portal.hubId,
        account === undefined
          ? html`<h1>Not connected yet</h1>
              <p class="error">The app did not finish the connection.</p>`
          : html`<h1>Channel connected</h1>
              <p data-account-id="${account.id}">
                Your account <strong>${account.name}</strong> is connected. You can close this window.
              </p>`,
        CONNECTED_SCRIPT,
      ),
    );
  }

  @Post(':hubId/settings/inbox/accounts/:accountId/:action')
  accountAction(
    @Param('hubId') hubId: string,
    @Param('accountId') accountId: string,
    @Param('action') action: string,
    @Body() body: unknown,
    @Res() res: Response,
  ): void {
    const portal = this.portal(hubId);
    const account = this.accountStore.get(accountId);
    if (account?.portalId !== portal.hubId || account.archived) {
      throw HubSpotError.notFound(`Channel account ${accountId} not found`);
    }
    if (action === 'rename') {
      const name = field(body, 'name')?.trim() ?? '';
      if (name === '') {
        throw invalidInput([detail('The name may not be empty', 'INVALID_VALUE', 'body', 'name')]);
      }
      this.accounts.adminUpdate(account.id, { name });
    } else if (action === 'turn-off' || action === 'turn-on') {
      this.accounts.adminUpdate(account.id, { active: action === 'turn-on' });
    } else if (action === 'move-to-help-desk') {
      this.accounts.adminMoveToHelpDesk(account.id);
    } else if (action === 'delete') {
      this.accounts.adminPurge(account.id);
    } else {
      throw HubSpotError.notFound(`Unknown action ${action}`);
    }
    res.redirect(303, `/ui/${portal.hubId}/settings/inbox`);
  }

  // ---- Inbox ------------------------------------------------------------------------------------

  @Get(':hubId/inbox')
  inbox(@Param('hubId') hubId: string, @Query() query: Record<string, unknown>, @Res() res: Response): void {
    const portal = this.portal(hubId);
    const channelId = typeof query.channelId === 'string' ? query.channelId : '';
    const inboxId = typeof query.inboxId === 'string' ? query.inboxId : '';
    const search = typeof query.q === 'string' ? query.q.trim() : '';
    const threads = this.messageStore
      .portalThreads(portal.hubId)
      .filter((thread) => thread.archived !== true)
      .filter((thread) => channelId === '' || thread.channelId === channelId)
      .filter((thread) => inboxId === '' || thread.inboxId === inboxId)
      .filter((thread) => search === '' || this.matches(thread, search.toLowerCase()))
      .map((thread) => ({ thread, history: this.messageStore.threadMessages(thread.id) }))
      .sort((left, right) =>
        (right.history.at(-1)?.createdAt ?? right.thread.createdAt).localeCompare(
          left.history.at(-1)?.createdAt ?? left.thread.createdAt,
        ),
      );
    const channelIds = [...new Set(this.messageStore.portalThreads(portal.hubId).map((t) => t.channelId))];
    const option = (value: string, label: string, selected: string) =>
      html`<option value="${value}" ${value === selected ? new SafeHtml(' selected') : ''}>${label}</option>`;
    const rows = threads.map(({ thread, history }) => {
      const last = history.at(-1);
      return html`<tr class="thread-row">
        <td><a href="/ui/${portal.hubId}/inbox/threads/${thread.id}">${this.who(thread, history)}</a></td>
        <td>${this.channels.get(thread.channelId)?.name ?? thread.channelId}</td>
        <td>${this.inboxName(portal, thread.inboxId)}</td>
        <td>${last === undefined ? '' : last.text.slice(0, 80)}</td>
        <td>${this.assigneeName(portal, thread.assignedTo) ?? 'Unassigned'}</td>
        <td><span class="badge">${thread.status}</span></td>
        <td class="muted">${when(last?.createdAt ?? thread.createdAt)}</td>
      </tr>`;
    });
    this.send(
      res,
      layout(
        'Inbox',
        portal.hubId,
        html`<h1>Inbox</h1>
          <form class="filters" method="get" role="search">
            <input
              type="search"
              name="q"
              value="${search}"
              placeholder="Search conversations"
              aria-label="Search"
            />
            <select name="channelId" aria-label="Channel">
              ${option('', 'All channels', channelId)}${channelIds.map((id) => option(id, this.channels.get(id)?.name ?? id, channelId))}
            </select>
            <select name="inboxId" aria-label="Inbox">
              ${option('', 'All inboxes', inboxId)}${portal.inboxes.map((inbox) => option(inbox.id, inbox.name, inboxId))}
            </select>
            <button type="submit" class="secondary">Filter</button>
          </form>
          ${
            threads.length === 0
              ? html`<p class="muted">No conversation matches.</p>`
              : html`<table id="threads">
                  <tr>
                    <th>Contact</th>
                    <th>Channel</th>
                    <th>Inbox</th>
                    <th>Last message</th>
                    <th>Owner</th>
                    <th>Status</th>
                    <th>Updated</th>
                  </tr>
                  ${rows}
                </table>`
          }`,
      ),
    );
  }

  @Get(':hubId/inbox/threads/:threadId')
  thread(
    @Param('hubId') hubId: string,
    @Param('threadId') threadId: string,
    @Req() req: Request,
    @Res() res: Response,
  ): void {
    const portal = this.portal(hubId);
    const thread = this.threadOf(portal, threadId);
    const history = this.messageStore.threadMessages(thread.id);
    const origin = originOf(req);
    const lookup: FileLookup = (fileId) => {
      try {
        const file = this.files.get(portal.hubId, fileId);
        return { file, url: String(this.files.signedUrl(file, origin, 3600).url) };
      } catch {
        return undefined;
      }
    };
    const entries = [
      ...history.map((message) => ({ at: message.createdAt, view: this.messageView(message, lookup) })),
      ...this.messageStore.threadActivities(thread.id).map((activity) => ({
        at: activity.createdAt,
        view:
          activity.type === 'ASSIGNMENT'
            ? html`<div class="activity">
                Assigned to ${this.assigneeName(portal, activity.assignedTo) ?? 'nobody'}
              </div>`
            : html`<div class="activity">
                Conversation ${activity.newStatus === 'CLOSED' ? 'closed' : 'reopened'}
              </div>`,
      })),
    ].sort((left, right) => Date.parse(left.at) - Date.parse(right.at));
    const contact =
      thread.associatedContactId === undefined
        ? undefined
        : this.crm
            .portalContacts(portal.hubId)
            .find((candidate) => candidate.id === thread.associatedContactId);
    const sender = history.find((message) => message.direction === 'INCOMING')?.senders[0];
    const assignee = html`<form
      method="post"
      action="/ui/${portal.hubId}/inbox/threads/${thread.id}/assignee"
      id="assignee-form"
    >
      <label
        >Owner
        <select name="actorId" id="assignee" onchange="this.form.submit()">
          <option value="">Unassigned</option>
          ${portal.users.map(
            (user) =>
              html`<option
                value="A-${user.id}"
                ${thread.assignedTo === `A-${user.id}` ? new SafeHtml(' selected') : ''}
              >
                ${userName(user)}
              </option>`,
          )}
        </select></label
      ><noscript><button type="submit">Save</button></noscript>
    </form>`;
    const nextStatus = thread.status === 'OPEN' ? 'CLOSED' : 'OPEN';
    const statusForm = html`<form
      method="post"
      action="/ui/${portal.hubId}/inbox/threads/${thread.id}/status"
      id="status-form"
    >
      <input type="hidden" name="status" value="${nextStatus}" /><button type="submit" id="status-button">
        ${nextStatus === 'CLOSED' ? 'Close conversation' : 'Reopen conversation'}
      </button>
    </form>`;
    const deleteForms = html`<form
        method="post"
        action="/ui/${portal.hubId}/inbox/threads/${thread.id}/deletion"
        id="delete-form"
        onsubmit="return confirm('Delete this conversation?')"
      >
        <button type="submit" class="danger" id="delete-button">Delete conversation</button>
      </form>
      <form
        method="post"
        action="/ui/${portal.hubId}/inbox/threads/${thread.id}/deletion"
        id="privacy-delete-form"
        onsubmit="return confirm('Permanently delete this conversation and its messages (GDPR)?')"
      >
        <input type="hidden" name="privacy" value="true" /><button
          type="submit"
          class="danger"
          id="privacy-delete-button"
        >
          Delete permanently (GDPR)
        </button>
      </form>`;
    const sidebar = html`<aside>
      <div class="card" id="contact">
        <h2>Contact</h2>
        ${
          contact === undefined
            ? html`<p><strong>${sender?.name ?? 'Unknown visitor'}</strong></p>
                <p class="muted">${sender?.deliveryIdentifier.value ?? ''}</p>
                <p class="muted">No contact record is associated.</p>`
            : html`<p>
                  <a href="/ui/${portal.hubId}/contacts/${contact.id}"
                    ><strong>${contactName(contact)}</strong></a
                  >
                </p>
                <dl>
                  <dt>Email</dt>
                  <dd>${contact.properties.email ?? '—'}</dd>
                  <dt>Phone</dt>
                  <dd>${contact.properties.phone ?? contact.properties.mobilephone ?? '—'}</dd>
                </dl>`
        }
      </div>
      <div class="card">
        ${assignee} ${statusForm} ${deleteForms}
        <p class="muted">
          Channel: ${this.channels.get(thread.channelId)?.name ?? thread.channelId}<br />Inbox:
          ${this.inboxName(portal, thread.inboxId)}<br />Status:
          ${thread.status}${thread.associatedTicketId === undefined ? '' : html`<br />Ticket ${thread.associatedTicketId}`}
        </p>
      </div>
    </aside>`;
    const editor = html`<form
      class="card editor"
      method="post"
      enctype="multipart/form-data"
      action="/ui/${portal.hubId}/inbox/threads/${thread.id}/replies"
      id="reply"
    >
      <label for="reply-text"><strong>Reply</strong></label
      ><textarea id="reply-text" name="text" required placeholder="Write a reply…"></textarea>
      <p>
        <label>Attachment <input type="file" name="file" /></label> <button type="submit">Send</button>
      </p>
    </form>`;
    this.send(
      res,
      layout(
        `Conversation with ${this.who(thread, history)}`,
        portal.hubId,
        html`<p><a href="/ui/${portal.hubId}/inbox">← Inbox</a></p>
          <h1>Conversation with ${this.who(thread, history)}</h1>
          <div class="layout">
            <section>
              <div class="timeline" id="timeline" data-version="${this.threadVersion(thread)}">
                ${entries.map((entry) => entry.view)}
              </div>
              ${editor}
            </section>
            ${sidebar}
          </div>`,
        THREAD_POLL_SCRIPT,
      ),
    );
  }

  /** What the thread page shows changes exactly when this does (polled by the page for live updates). */
  @Get(':hubId/inbox/threads/:threadId/version')
  version(@Param('hubId') hubId: string, @Param('threadId') threadId: string, @Res() res: Response): void {
    const portal = this.portal(hubId);
    res
      .setHeader('Cache-Control', 'no-store')
      .type('text/plain')
      .send(this.threadVersion(this.threadOf(portal, threadId)));
  }

  private threadVersion(thread: Thread): string {
    const statuses = this.messageStore
      .threadMessages(thread.id)
      .map((message) => message.status.statusType[0] ?? '')
      .join('');
    const activities = this.messageStore.threadActivities(thread.id).length;
    return `${statuses}.${activities}.${thread.status}.${thread.assignedTo ?? ''}`;
  }

  /** The owner dropdown: `A-<userId>` through the Conversations API's assignee rules, or unassign. */
  @Post(':hubId/inbox/threads/:threadId/assignee')
  assign(
    @Param('hubId') hubId: string,
    @Param('threadId') threadId: string,
    @Body() body: unknown,
    @Res() res: Response,
  ): void {
    const portal = this.portal(hubId);
    const thread = this.threadOf(portal, threadId);
    const by = `A-${portal.users[0]?.id ?? 0}`;
    const actorId = field(body, 'actorId') ?? '';
    if (actorId === '') {
      this.conversations.unassign(portal.hubId, thread.id, by);
    } else {
      this.conversations.assign(portal.hubId, thread.id, by, { actorId });
    }
    res.redirect(303, `/ui/${portal.hubId}/inbox/threads/${thread.id}`);
  }

  /** Close or reopen, as a rep does in the inbox: a THREAD_STATUS_CHANGE and the `status` property change event. */
  @Post(':hubId/inbox/threads/:threadId/status')
  setStatus(
    @Param('hubId') hubId: string,
    @Param('threadId') threadId: string,
    @Body() body: unknown,
    @Res() res: Response,
  ): void {
    const portal = this.portal(hubId);
    const thread = this.threadOf(portal, threadId);
    const status = field(body, 'status');
    if (status !== 'OPEN' && status !== 'CLOSED') {
      throw invalidInput([
        detail(
          'Invalid value for field "status": expected OPEN or CLOSED',
          'INVALID_ENUM_VALUE',
          'body',
          'status',
        ),
      ]);
    }
    if (status !== thread.status) {
      this.conversations.setStatus(thread, status, `A-${portal.users[0]?.id ?? 0}`);
    }
    res.redirect(303, `/ui/${portal.hubId}/inbox/threads/${thread.id}`);
  }

  /**
   * A rep deletes the conversation: to the trash (archived, `conversation.deletion`), or with `privacy=true` a GDPR
   * deletion of it and its messages (`conversation.privacyDeletion`); back to the inbox.
   */
  @Post(':hubId/inbox/threads/:threadId/deletion')
  deleteThread(
    @Param('hubId') hubId: string,
    @Param('threadId') threadId: string,
    @Body() body: unknown,
    @Res() res: Response,
  ): void {
    const portal = this.portal(hubId);
    const thread = this.threadOf(portal, threadId);
    if (field(body, 'privacy') === 'true') {
      this.conversations.privacyDeleteThread(portal.hubId, thread.id);
    } else {
      this.conversations.archiveThread(portal.hubId, thread.id);
    }
    res.redirect(303, `/ui/${portal.hubId}/inbox`);
  }

  /** The reply editor: the same agent reply as the control API, so `OUTGOING_CHANNEL_MESSAGE_CREATED` fires. */
  @Post(':hubId/inbox/threads/:threadId/replies')
  @UseInterceptors(AnyFilesInterceptor())
  reply(
    @Param('hubId') hubId: string,
    @Param('threadId') threadId: string,
    @Body() body: unknown,
    @UploadedFiles() parts: UploadedPart[] | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): void {
    const portal = this.portal(hubId);
    const thread = this.threadOf(portal, threadId);
    const agent = portal.users[0];
    const text = field(body, 'text')?.trim() ?? '';
    if (agent === undefined || text === '') {
      throw invalidInput([detail('A reply needs text', 'MISSING_REQUIRED_FIELD', 'body', 'text')]);
    }
    const uploads = (parts ?? []).filter((part) => part.fieldname === 'file' && part.size > 0);
    const fileIds = uploads.map(
      (part) =>
        this.files.store(
          portal.hubId,
          this.files.parseUpload(
            { folderPath: '/conversations/replies', options: JSON.stringify({ access: 'PRIVATE' }) },
            [part],
          ),
        ).file.id,
    );
    const attachments = replyAttachments(this.files, portal.hubId, fileIds, originOf(req));
    this.messages.agentReply(thread.id, { userId: agent.id, text }, attachments);
    res.redirect(303, `/ui/${portal.hubId}/inbox/threads/${thread.id}`);
  }

  // ---- Contacts ---------------------------------------------------------------------------------

  @Get(':hubId/contacts/:contactId')
  contact(@Param('hubId') hubId: string, @Param('contactId') contactId: string, @Res() res: Response): void {
    const portal = this.portal(hubId);
    const contact = this.crm
      .portalContacts(portal.hubId)
      .find((candidate) => candidate.id === contactId && !candidate.archived);
    if (contact === undefined) {
      throw HubSpotError.notFound(`Contact ${contactId} not found`);
    }
    const threads = this.messageStore
      .portalThreads(portal.hubId)
      .filter((thread) => thread.associatedContactId === contact.id && thread.archived !== true);
    const properties = Object.entries(contact.properties).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== '',
    );
    this.send(
      res,
      layout(
        contactName(contact),
        portal.hubId,
        html`<h1>${contactName(contact)}</h1>
          <div class="layout">
            <section>
              <h2>Conversations</h2>
              ${
                threads.length === 0
                  ? html`<p class="muted">No conversation yet.</p>`
                  : html`<table id="conversations">
                      <tr>
                        <th>Conversation</th>
                        <th>Channel</th>
                        <th>Messages</th>
                        <th>Status</th>
                        <th>Started</th>
                      </tr>
                      ${threads.map((thread) => {
                        const history = this.messageStore.threadMessages(thread.id);
                        return html`<tr>
                          <td>
                            <a href="/ui/${portal.hubId}/inbox/threads/${thread.id}"
                              >${history.at(-1)?.text.slice(0, 80) ?? `Thread ${thread.id}`}</a
                            >
                          </td>
                          <td>${this.channels.get(thread.channelId)?.name ?? thread.channelId}</td>
                          <td>${history.length}</td>
                          <td>${thread.status}</td>
                          <td class="muted">${when(thread.createdAt)}</td>
                        </tr>`;
                      })}
                    </table>`
              }
            </section>
            <aside class="card">
              <h2>About</h2>
              <dl>
                ${properties.map(
                  ([name, value]) =>
                    html`<dt>${name}</dt>
                      <dd>${value}</dd>`,
                )}
              </dl>
            </aside>
          </div>`,
      ),
    );
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private send(res: Response, page: string): void {
    res.status(200).type('html').send(page);
  }

  private portal(hubId: string): Portal {
    const portal = /^\d+$/.test(hubId) ? this.portals.get(Number(hubId)) : undefined;
    if (portal === undefined) {
      throw HubSpotError.notFound(`Portal ${hubId} not found`);
    }
    return portal;
  }

  private threadOf(portal: Portal, threadId: string): Thread {
    const thread = this.messageStore.thread(threadId);
    if (thread?.portalId !== portal.hubId || thread.archived === true) {
      throw HubSpotError.notFound(`Thread ${threadId} not found`);
    }
    return thread;
  }

  private logo(channel: Channel): SafeHtml {
    const url = safeUrl(channel.channelLogoUrl);
    return url === undefined
      ? html`<span class="badge">${channel.name.slice(0, 1)}</span>`
      : html`<img class="logo" src="${url}" alt="${channel.name} logo" />`;
  }

  private accountRow(portal: Portal, account: ChannelAccount): SafeHtml {
    const base = `/ui/${portal.hubId}/settings/inbox/accounts/${account.id}`;
    const inbox = portal.inboxes.find((candidate) => candidate.id === account.inboxId);
    return html`<tr data-account-id="${account.id}">
      <td>
        <strong class="account-name">${account.name}</strong>
        <div class="muted">${account.deliveryIdentifier?.value ?? ''}</div>
      </td>
      <td>${this.channels.get(account.channelId)?.name ?? account.channelId}</td>
      <td>
        ${inbox?.name ?? account.inboxId}${inbox?.type === 'HELP_DESK' ? html` <span class="badge">help desk</span>` : ''}
      </td>
      <td>
        ${account.active ? html`<span class="badge on">On</span>` : html`<span class="badge off">Off</span>`}
      </td>
      <td>
        <form class="inline" method="post" action="${base}/rename">
          <input name="name" value="${account.name}" aria-label="Name" size="14" /><button class="secondary">
            Rename
          </button>
        </form>
        <form class="inline" method="post" action="${base}/${account.active ? 'turn-off' : 'turn-on'}">
          <button class="secondary">${account.active ? 'Turn off' : 'Turn on'}</button>
        </form>
        ${inbox?.type === 'HELP_DESK' ? '' : html`<form class="inline" method="post" action="${base}/move-to-help-desk"><button class="secondary">Move to help desk</button></form>`}
        <form
          class="inline"
          method="post"
          action="${base}/delete"
          onsubmit="return confirm('Delete this channel account?')"
        >
          <button class="danger">Delete</button>
        </form>
      </td>
    </tr>`;
  }

  private messageView(message: StoredMessage, lookup: FileLookup): SafeHtml {
    const author = message.senders[0]?.name ?? message.senders[0]?.deliveryIdentifier.value ?? '';
    const status =
      message.direction !== 'OUTGOING'
        ? ''
        : message.status.statusType === 'FAILED'
          ? html`<div class="status FAILED" data-status="FAILED">
              Failed: ${message.status.failureDetails?.errorMessage ?? 'no reason given'}
            </div>`
          : html`<div class="status ${message.status.statusType}" data-status="${message.status.statusType}">
              ${message.status.statusType === 'READ' ? 'Read' : 'Sent'}
            </div>`;
    return html`<article class="msg ${message.direction}" data-message-id="${message.id}">
      <div class="meta">${author} · ${when(message.createdAt)}</div>
      ${message.text === '' ? '' : html`<div class="text">${message.text}</div>`}${message.attachments.map((attachment) => renderAttachment(attachment, lookup))}${status}
    </article>`;
  }

  private who(thread: Thread, history: StoredMessage[]): string {
    const contact =
      thread.associatedContactId === undefined
        ? undefined
        : this.crm
            .portalContacts(thread.portalId)
            .find((candidate) => candidate.id === thread.associatedContactId);
    if (contact !== undefined) {
      return contactName(contact);
    }
    const sender = history.find((message) => message.direction === 'INCOMING')?.senders[0];
    return sender?.name ?? sender?.deliveryIdentifier.value ?? `Thread ${thread.id}`;
  }

  private matches(thread: Thread, needle: string): boolean {
    const history = this.messageStore.threadMessages(thread.id);
    return (
      this.who(thread, history).toLowerCase().includes(needle) ||
      history.some(
        (message) =>
          message.text.toLowerCase().includes(needle) ||
          message.senders.some((sender) => (sender.name ?? '').toLowerCase().includes(needle)),
      )
    );
  }

  private inboxName(portal: Portal, inboxId: string): string {
    return portal.inboxes.find((inbox) => inbox.id === inboxId)?.name ?? inboxId;
  }

  private assigneeName(portal: Portal, actorId: string | undefined): string | undefined {
    const user = portal.users.find((candidate) => `A-${candidate.id}` === actorId);
    return user === undefined ? actorId : userName(user);
  }
}
