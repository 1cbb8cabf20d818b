import type { Provider } from '@inbox-bridge/shared';

export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** The HubSpot context of one connection attempt, carried through the form in hidden fields. */
export interface ConnectContext {
  readonly accountToken: string;
  readonly portalId: string;
  readonly inboxId: string;
  readonly channelId: string;
  readonly redirectUrl: string;
}

interface FieldSpec {
  readonly name: string;
  readonly label: string;
  readonly type: 'text' | 'password' | 'tel' | 'url';
  readonly placeholder: string;
  readonly hint: string;
  /** Secret values are never written back into the page. */
  readonly secret: boolean;
}

export interface ProviderSpec {
  readonly provider: Provider;
  readonly title: string;
  readonly blurb: string;
  readonly fields: readonly FieldSpec[];
}

export const PROVIDER_SPECS: readonly ProviderSpec[] = [
  {
    provider: 'telegram',
    title: 'Telegram bot',
    blurb: 'Customers write to your Telegram bot.',
    fields: [
      {
        name: 'botToken',
        label: 'Bot token',
        type: 'password',
        placeholder: '123456789:AAH…',
        hint: 'From @BotFather: /mybots → your bot → API Token.',
        secret: true,
      },
    ],
  },
  {
    provider: 'twilio',
    title: 'SMS / MMS (Twilio)',
    blurb: 'Customers text your Twilio phone number.',
    fields: [
      {
        name: 'accountSid',
        label: 'Account SID',
        type: 'text',
        placeholder: 'AC…',
        hint: 'Twilio Console → Account info.',
        secret: false,
      },
      {
        name: 'authToken',
        label: 'Auth token',
        type: 'password',
        placeholder: '32 characters',
        hint: 'Twilio Console → Account info.',
        secret: true,
      },
      {
        name: 'phoneNumber',
        label: 'Phone number',
        type: 'tel',
        placeholder: '+14155550123',
        hint: 'The Twilio number customers write to, in international format.',
        secret: false,
      },
    ],
  },
  {
    provider: 'generic-webhook',
    title: 'Your own system (webhook)',
    blurb: 'Your messaging system posts to the bridge and receives replies.',
    fields: [
      {
        name: 'callbackUrl',
        label: 'Callback URL',
        type: 'url',
        placeholder: 'https://messages.example.com/bridge',
        hint: 'HTTPS address the bridge posts replies to.',
        secret: false,
      },
      {
        name: 'sharedSecret',
        label: 'Shared secret',
        type: 'password',
        placeholder: 'at least 32 characters',
        hint: 'Both sides sign their requests with it.',
        secret: true,
      },
    ],
  },
];

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#213343;background:#f5f8fa}
main{max-width:560px;margin:0 auto;padding:24px 24px 16px}h1{font-size:20px;margin:0 0 4px}p.lead{margin:0 0 20px;color:#516f90}
.providers{display:grid;gap:10px}.provider{display:block;padding:14px 16px;border:1px solid #cbd6e2;border-radius:8px;background:#fff;color:inherit;text-decoration:none}
.provider:hover,.provider:focus{border-color:#0091ae;outline:none;box-shadow:0 0 0 2px #d6f1f6}.provider strong{display:block;font-size:16px}.provider span{color:#516f90;font-size:14px}
form{background:#fff;border:1px solid #cbd6e2;border-radius:8px;padding:18px 18px 8px}label{display:block;font-weight:600;margin-bottom:4px}
.field{margin-bottom:14px}input[type=text],input[type=password],input[type=tel],input[type=url]{width:100%;padding:9px 10px;border:1px solid #cbd6e2;border-radius:4px;font:inherit}
input[aria-invalid=true]{border-color:#d94c53;background:#fff6f6}.hint{color:#7c98b6;font-size:13px;margin-top:3px}.error{color:#b3282d;font-size:13px;margin-top:3px}
.alert{border-radius:6px;padding:10px 12px;margin-bottom:16px;background:#fde8e9;color:#8b1a1f;border:1px solid #f2b8bb}
.actions{display:flex;gap:12px;align-items:center;margin:6px 0 10px}button{background:#ff7a59;border:0;color:#fff;font:inherit;font-weight:600;padding:9px 18px;border-radius:4px;cursor:pointer}
button:hover{background:#ff8f73}a.back{color:#0091ae}
.done{background:#fff;border:1px solid #cbd6e2;border-radius:8px;padding:22px 20px 16px;text-align:center}
.check{display:inline-flex;width:44px;height:44px;border-radius:50%;background:#e5f8f6;color:#00a38d;font-size:24px;font-weight:700;align-items:center;justify-content:center;margin-bottom:10px}
.done h1{overflow-wrap:anywhere}.next{border:1px solid #cbd6e2;border-radius:8px;padding:12px 14px;margin:16px 0;text-align:left;background:#f5f8fa}
.next a{color:#0091ae;font-weight:600}.next p{margin:4px 0 0;color:#516f90;font-size:14px}
a.button{display:inline-block;background:#ff7a59;color:#fff;font-weight:600;padding:9px 28px;border-radius:4px;text-decoration:none}a.button:hover,a.button:focus{background:#ff8f73}`;

function page(title: string, body: string, head = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">${head}
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

export function connectUrl(context: ConnectContext, provider?: Provider): string {
  const query = new URLSearchParams({
    accountToken: context.accountToken,
    channelId: context.channelId,
    inboxId: context.inboxId,
    portalId: context.portalId,
    redirectUrl: context.redirectUrl,
    ...(provider === undefined ? {} : { provider }),
  });
  return `/connect?${query.toString()}`;
}

export function renderProviderChoice(context: ConnectContext, providers: readonly ProviderSpec[]): string {
  const links = providers
    .map(
      (spec) =>
        `<a class="provider" data-provider="${spec.provider}" href="${escapeHtml(connectUrl(context, spec.provider))}"><strong>${escapeHtml(spec.title)}</strong><span>${escapeHtml(spec.blurb)}</span></a>`,
    )
    .join('');
  return page(
    'Connect a channel',
    `<h1>Connect a channel</h1><p class="lead">Which kind of account do you want to connect to this HubSpot inbox?</p><div class="providers">${links}</div>`,
  );
}

export interface FormState {
  readonly values: Readonly<Record<string, string>>;
  readonly fieldErrors: Readonly<Record<string, string>>;
  /** A message about the whole attempt (wrong credentials, timeout, used token). */
  readonly alert?: string;
}

export function renderCredentialsForm(
  context: ConnectContext,
  spec: ProviderSpec,
  csrf: string,
  state: FormState,
  canChooseAnother: boolean,
): string {
  const hidden = (Object.entries(context) as [string, string][])
    .concat([
      ['provider', spec.provider],
      ['csrf', csrf],
    ])
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
    .join('');
  const fields = spec.fields
    .map((field) => {
      const error = state.fieldErrors[field.name];
      const value = field.secret ? '' : (state.values[field.name] ?? '');
      const describedBy = error === undefined ? `${field.name}-hint` : `${field.name}-error`;
      return `<div class="field"><label for="${field.name}">${escapeHtml(field.label)}</label>
<input id="${field.name}" name="${field.name}" type="${field.type}" value="${escapeHtml(value)}" placeholder="${escapeHtml(field.placeholder)}" autocomplete="off" required aria-describedby="${describedBy}"${error === undefined ? '' : ' aria-invalid="true"'}>
${error === undefined ? `<div class="hint" id="${field.name}-hint">${escapeHtml(field.hint)}</div>` : `<div class="error" id="${field.name}-error" data-error-for="${field.name}">${escapeHtml(error)}</div>`}</div>`;
    })
    .join('');
  const alert =
    state.alert === undefined ? '' : `<div class="alert" role="alert">${escapeHtml(state.alert)}</div>`;
  const back = canChooseAnother
    ? `<a class="back" href="${escapeHtml(connectUrl(context))}">Choose another kind</a>`
    : '';
  return page(
    `Connect ${spec.title}`,
    `<h1>Connect ${escapeHtml(spec.title)}</h1><p class="lead">${escapeHtml(spec.blurb)} The bridge checks these details with the provider before connecting.</p>
${alert}<form method="post" action="/connect" novalidate>${hidden}${fields}<div class="actions"><button type="submit">Connect</button>${back}</div></form>`,
  );
}

export function renderProblemPage(title: string, message: string): string {
  return page(
    title,
    `<h1>${escapeHtml(title)}</h1><div class="alert" role="alert">${escapeHtml(message)}</div><p class="lead">You can close this window.</p>`,
  );
}

/**
 * The popup's last step: the account is connected; the admin may open the router's settings page for it
 * (a new tab, so the popup stays) and goes back to HubSpot with "Done". While HubSpot has not yet told the
 * bridge the new account's id (`routingUrl` undefined), the page reloads itself every 2 s (no script).
 */
export function renderConnectedPage(view: {
  readonly accountName: string;
  /** The bot or number was connected already: its account took the new credentials, nothing was created. */
  readonly reconnected: boolean;
  /** The account is turned off in HubSpot: new credentials do not turn it on (that is the admin's switch). */
  readonly turnedOff: boolean;
  /** The router's settings link: not configured, waiting for HubSpot to name the account, or its address. */
  readonly routing:
    | { readonly state: 'unavailable' }
    | { readonly state: 'pending' }
    | { readonly state: 'ready'; readonly url: string };
  readonly doneUrl: string;
}): string {
  const { routing } = view;
  const next =
    routing.state === 'pending'
      ? `<div class="next" role="status" data-routing="pending">Preparing the routing settings for this account…<p>HubSpot is finishing the connection; this takes a few seconds.</p></div>`
      : routing.state === 'ready'
        ? `<div class="next" data-routing="ready"><a href="${escapeHtml(routing.url)}" target="_blank" rel="noopener noreferrer">Set up routing for this account</a><p>Choose who its conversations are assigned to. You can also do it later.</p></div>`
        : '';
  const heading = view.reconnected
    ? `<h1>Reconnected ${escapeHtml(view.accountName)}</h1><p class="lead" data-outcome="reconnected">This account was already connected to your HubSpot inbox, so nothing new was created: it now uses the credentials you entered and keeps its conversations.</p>`
    : `<h1>Connected as ${escapeHtml(view.accountName)}</h1><p class="lead" data-outcome="connected">New conversations from this account now arrive in your HubSpot inbox.</p>`;
  const turnedOff = view.turnedOff
    ? `<div class="alert" role="status" data-account-state="off">This account is turned off in HubSpot, so the bridge does not bring its customers' messages into your inbox or send replies through it. Turn it on in your HubSpot inbox settings.</div>`
    : '';
  return page(
    view.reconnected ? 'Reconnected' : 'Connected',
    `<div class="done"><div class="check" aria-hidden="true">✓</div>${heading}
${turnedOff}${next}<a class="button" href="${escapeHtml(view.doneUrl)}">Done</a></div>`,
    routing.state === 'pending' ? '<meta http-equiv="refresh" content="2">' : '',
  );
}
