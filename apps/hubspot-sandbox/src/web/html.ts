import { escapeHtml } from '../common/html.js';

/** Markup that is already safe: produced by `html` or by `raw` on a constant. */
export class SafeHtml {
  constructor(readonly value: string) {}

  toString(): string {
    return this.value;
  }
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) {
    return value.value;
  }
  if (Array.isArray(value)) {
    return (value as readonly HtmlValue[]).map(render).join('');
  }
  if (value === null || value === undefined || value === false) {
    return '';
  }
  return escapeHtml(String(value));
}

/** Template tag: every interpolated value is escaped unless it is `SafeHtml` (arrays are joined). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** Only `http:`, `https:` and same-origin paths may become a link or a media source. */
export function safeUrl(value: unknown): string | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  if (value.startsWith('/') && !value.startsWith('//')) {
    return value;
  }
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

const STYLES = `
:root{--ink:#33475b;--muted:#7c98b6;--line:#dfe3eb;--bg:#f5f8fa;--accent:#ff7a59;--teal:#00a4bd;--ok:#00bda5;--bad:#d9534f}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);background:var(--bg)}
header.top{display:flex;gap:24px;align-items:center;background:#2d3e50;color:#fff;padding:10px 24px}
header.top a{color:#fff;text-decoration:none;opacity:.85}header.top a:hover{opacity:1}header.top .brand{font-weight:700;opacity:1}
main{max-width:1180px;margin:24px auto;padding:0 24px}h1{font-size:24px;margin:0 0 16px}h2{font-size:18px;margin:24px 0 12px}
a{color:#0091ae}.muted{color:var(--muted)}.card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:16px;margin-bottom:16px}
table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:left;padding:10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;text-transform:uppercase;color:var(--muted)}button,.button{background:var(--accent);color:#fff;border:0;border-radius:4px;padding:7px 14px;font:inherit;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary{background:#fff;color:var(--ink);border:1px solid var(--line)}button.danger{background:var(--bad)}
input,select,textarea{font:inherit;padding:6px 8px;border:1px solid #cbd6e2;border-radius:4px;background:#fff}
form.inline{display:inline-flex;gap:6px;align-items:center;margin:2px 4px 2px 0}
.channels{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:16px}
.channel{display:flex;flex-direction:column;gap:8px}.channel img.logo{width:48px;height:48px;object-fit:contain;border-radius:8px;background:var(--bg)}
.badge{display:inline-block;font-size:12px;padding:1px 8px;border-radius:10px;background:var(--bg);border:1px solid var(--line)}
.badge.on{background:#e5f8f6;border-color:var(--ok)}.badge.off{background:#fdeeee;border-color:var(--bad)}
.layout{display:grid;grid-template-columns:1fr 300px;gap:20px}.filters{display:flex;gap:8px;flex-wrap:wrap;margin-bottom:16px}
.timeline{display:flex;flex-direction:column;gap:12px}.msg{max-width:75%;padding:10px 14px;border-radius:10px;background:#fff;border:1px solid var(--line)}
.msg.OUTGOING{align-self:flex-end;background:#e5f5f8;border-color:#b0e2ea}.msg .meta{font-size:12px;color:var(--muted);margin-bottom:4px}
.msg .text{white-space:pre-wrap}.att{margin-top:8px}.att img.image{max-width:320px;max-height:240px;border-radius:6px;display:block}
.att img.sticker{width:120px;height:120px;object-fit:contain}.att video{max-width:360px;border-radius:6px}
.att .box{border:1px solid var(--line);border-radius:6px;padding:8px 10px;background:var(--bg)}.chips{display:flex;gap:6px;flex-wrap:wrap}
.chip{border:1px solid var(--teal);color:var(--teal);border-radius:14px;padding:2px 10px;font-size:13px;background:#fff;text-decoration:none}
.status{font-size:12px;margin-top:6px}.status.FAILED{color:var(--bad);font-weight:600}.status.READ{color:var(--ok)}
.activity{align-self:center;font-size:12px;color:var(--muted)}.editor textarea{width:100%;min-height:80px}
.flash{background:#e5f8f6;border:1px solid var(--ok);padding:10px 14px;border-radius:6px;margin-bottom:16px}
.error{background:#fdeeee;border:1px solid var(--bad);padding:10px 14px;border-radius:6px}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:0}dt{color:var(--muted)}dd{margin:0}
`;

/** The page frame: top navigation of a portal, one inline stylesheet. */
export function layout(title: string, hubId: number | undefined, body: SafeHtml, script?: SafeHtml): string {
  const nav =
    hubId === undefined
      ? html``
      : html`<a href="/ui/${hubId}/inbox">Inbox</a
          ><a href="/ui/${hubId}/settings/inbox">Settings → Inbox</a>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <title>${title} · HubSpot sandbox</title>
        <style>
          ${new SafeHtml(STYLES)}
        </style>
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/ui">HubSpot sandbox</a
          >${nav}${hubId === undefined ? '' : html`<span class="muted">portal ${hubId}</span>`}
        </header>
        <main>${body}</main>
        ${
          script === undefined
            ? ''
            : html`<script>
                ${script};
              </script>`
        }
      </body>
    </html>`.value;
}
