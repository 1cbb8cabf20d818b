/** Server-rendered HTML for the customer page. Every interpolated value goes through `esc`. */

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

export function layout(title: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · provider sandbox</title>
<style>
  :root { --tg: #2aabee; --tw: #f22f46; --ink: #1f2933; --muted: #6b7785; --bg: #eef2f5; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--ink); background: var(--bg); }
  header { background: #fff; border-bottom: 1px solid #d9e0e6; padding: 12px 24px; display: flex; gap: 16px; align-items: baseline; }
  header a { color: var(--ink); text-decoration: none; font-weight: 600; }
  main { max-width: 860px; margin: 24px auto; padding: 0 16px; }
  section.card { background: #fff; border-radius: 10px; padding: 16px 20px; margin-bottom: 16px; box-shadow: 0 1px 2px #0001; }
  h1 { font-size: 20px; margin: 0 0 12px; } h2 { font-size: 16px; margin: 0 0 8px; }
  .muted { color: var(--muted); font-size: 13px; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; color: #fff; }
  .badge.telegram { background: var(--tg); } .badge.twilio { background: var(--tw); }
  ul.accounts { list-style: none; padding: 0; margin: 0; }
  ul.accounts li { padding: 10px 0; border-top: 1px solid #eef1f4; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
  form.inline { display: inline-flex; gap: 6px; }
  input[type=text], input[type=tel] { padding: 6px 8px; border: 1px solid #c7d0d9; border-radius: 6px; font: inherit; }
  button { padding: 6px 12px; border: 0; border-radius: 6px; background: #2d3e50; color: #fff; font: inherit; cursor: pointer; }
  button.kind { background: #fff; color: var(--ink); border: 1px solid #c7d0d9; }
  #transcript { display: flex; flex-direction: column; gap: 8px; min-height: 240px; }
  .bubble { max-width: 75%; padding: 8px 12px; border-radius: 12px; background: #fff; box-shadow: 0 1px 1px #0001; }
  .bubble.customer { align-self: flex-end; background: #dcf8c6; }
  .bubble.agent { align-self: flex-start; }
  .bubble img { max-width: 240px; border-radius: 8px; display: block; }
  .bubble img.sticker { max-width: 128px; background: transparent; }
  .bubble video { max-width: 240px; border-radius: 8px; display: block; }
  .meta { font-size: 12px; color: var(--muted); margin-top: 4px; }
  .state-failed, .state-undelivered { color: #c0392b; font-weight: 600; }
  .compose { display: flex; gap: 6px; flex-wrap: wrap; margin-top: 12px; }
  .compose input[type=text] { flex: 1 1 240px; }
</style>
</head>
<body>
<header><a href="/ui">Provider sandbox · chat as a customer</a><span class="muted">Telegram Bot API and Twilio Messaging emulators</span></header>
<main>${body}</main>
${script === '' ? '' : `<script>${script}</script>`}
</body>
</html>`;
}

/** The compose bar: a text field and one button per kind (`name="kind"`). */
export function composeForm(action: string, kinds: readonly { kind: string; label: string }[]): string {
  return `<form class="compose" method="post" action="${esc(action)}">
  <input type="text" name="text" id="text" placeholder="Message (a caption for media)" autocomplete="off">
  ${kinds
    .map(
      ({ kind, label }) =>
        `<button type="submit" name="kind" value="${esc(kind)}" class="${kind === 'text' ? '' : 'kind'}" data-kind="${esc(kind)}">${esc(label)}</button>`,
    )
    .join('\n  ')}
</form>`;
}

/** Polls the transcript fragment once a second and swaps it in when it changed. */
export function pollingScript(transcriptUrl: string): string {
  return `
const transcript = document.getElementById('transcript');
async function refresh() {
  try {
    const response = await fetch(${JSON.stringify(transcriptUrl)}, { cache: 'no-store' });
    if (response.ok) {
      const html = await response.text();
      if (html !== transcript.dataset.html) {
        transcript.dataset.html = html;
        transcript.innerHTML = html;
        window.scrollTo(0, document.body.scrollHeight);
      }
    }
  } finally {
    setTimeout(refresh, 1000);
  }
}
refresh();
document.getElementById('text').focus();`;
}

/** A media element for `mimeType`; `kind` picks the sticker style. */
export function mediaHtml(src: string, mimeType: string, label: string, kind?: string): string {
  if (mimeType.startsWith('image/')) {
    return `<img src="${esc(src)}" alt="${esc(label)}" class="${kind === 'sticker' ? 'sticker' : 'photo'}">`;
  }
  if (mimeType.startsWith('audio/')) {
    return `<audio controls src="${esc(src)}" data-kind="${esc(kind ?? 'audio')}"></audio>`;
  }
  if (mimeType.startsWith('video/')) {
    return `<video controls muted src="${esc(src)}"></video>`;
  }
  return `<a href="${esc(src)}" download>${esc(label)}</a>`;
}

export function mapLink(latitude: number, longitude: number): string {
  const href = `https://www.openstreetmap.org/?mlat=${latitude}&mlon=${longitude}#map=16/${latitude}/${longitude}`;
  return `<a class="location" href="${esc(href)}" target="_blank" rel="noopener">📍 ${esc(latitude.toFixed(5))}, ${esc(longitude.toFixed(5))}</a>`;
}
