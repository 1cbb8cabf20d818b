import type { StoredFile } from '../files/file.store.js';
import { html, safeUrl, type SafeHtml } from './html.js';

/** What the thread page needs to show a `FILE` attachment: the file and a download URL, if it is live. */
export type FileLookup = (fileId: string) => { file: StoredFile; url: string } | undefined;

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function fileName(file: StoredFile): string {
  return file.extension === '' ? file.name : `${file.name}.${file.extension}`;
}

function sizeLabel(bytes: number): string {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function renderFile(attachment: Record<string, unknown>, lookup: FileLookup): SafeHtml {
  const fileId = text(attachment.fileId) ?? '';
  const found = lookup(fileId);
  if (found === undefined) {
    return html`<div class="att box" data-kind="file-missing">File ${fileId} is no longer available</div>`;
  }
  const { file, url } = found;
  const name = fileName(file);
  switch (text(attachment.fileUsageType)) {
    case 'IMAGE':
      return html`<div class="att">
        <a href="${url}" target="_blank" rel="noopener"
          ><img class="image" data-kind="image" src="${url}" alt="${name}"
        /></a>
      </div>`;
    case 'STICKER':
      return html`<div class="att">
        <img class="sticker" data-kind="sticker" src="${url}" alt="Sticker ${name}" />
      </div>`;
    case 'AUDIO':
      return html`<div class="att">
        <audio data-kind="audio" controls preload="none" src="${url}"></audio>
        <div class="muted">${name}</div>
      </div>`;
    case 'VOICE_RECORDING':
      return html`<div class="att box">
        <span class="badge">Voice note</span><br /><audio
          data-kind="voice"
          controls
          preload="none"
          src="${url}"
        ></audio>
      </div>`;
    default:
      if (file.type === 'MOVIE') {
        return html`<div class="att">
          <video data-kind="video" controls preload="metadata" src="${url}"></video>
          <div class="muted">${name}</div>
        </div>`;
      }
      if (file.type === 'IMG') {
        return html`<div class="att">
          <img class="image" data-kind="image" src="${url}" alt="${name}" />
        </div>`;
      }
      return html`<div class="att box">
        <span class="badge">File</span> <a data-kind="file" href="${url}" download="${name}">${name}</a>
        <span class="muted">${sizeLabel(file.size)}</span>
      </div>`;
  }
}

function contactItems(items: unknown): string[] {
  if (!Array.isArray(items)) {
    return [];
  }
  return items.flatMap((item) => {
    if (typeof item !== 'object' || item === null) {
      return [];
    }
    const values = Object.values(item as Record<string, unknown>).flatMap((value) =>
      Array.isArray(value) ? value.filter((entry) => typeof entry === 'string') : [value],
    );
    return [values.filter((value): value is string => typeof value === 'string').join(' · ')];
  });
}

function renderContactCard(attachment: Record<string, unknown>): SafeHtml {
  const profile = (attachment.contactProfile ?? {}) as Record<string, unknown>;
  const rows: [string, string[]][] = [
    ['Organisation', text(profile.org) === undefined ? [] : [text(profile.org) ?? '']],
    ['Phone', contactItems(profile.phones)],
    ['Email', contactItems(profile.emails)],
    ['Address', contactItems(profile.addresses)],
    ['Web', contactItems(profile.urls)],
  ];
  return html`<div class="att box" data-kind="contact">
    <strong><span class="badge">Contact card</span> ${text(profile.name) ?? 'Contact card'}</strong>
    <dl>
      ${rows
        .filter(([, values]) => values.length > 0)
        .map(
          ([label, values]) =>
            html`<dt>${label}</dt>
              <dd>${values.join(', ')}</dd>`,
        )}
    </dl>
  </div>`;
}

function renderLocation(attachment: Record<string, unknown>): SafeHtml {
  const latitude = Number(attachment.latitude);
  const longitude = Number(attachment.longitude);
  const map =
    safeUrl(attachment.url) ??
    `https://www.openstreetmap.org/?mlat=${latitude}&mlon=${longitude}#map=16/${latitude}/${longitude}`;
  return html`<div class="att box" data-kind="location">
    <span class="badge">Location</span> <strong>${text(attachment.name) ?? 'Location'}</strong>
    ${text(attachment.address) === undefined ? '' : html`<div>${text(attachment.address)}</div>`}
    <div class="muted">
      ${latitude.toFixed(5)}, ${longitude.toFixed(5)} ·
      <a href="${map}" target="_blank" rel="noopener">Open map</a>
    </div>
  </div>`;
}

function renderQuickReplies(attachment: Record<string, unknown>): SafeHtml {
  const replies = Array.isArray(attachment.quickReplies)
    ? (attachment.quickReplies as Record<string, unknown>[])
    : [];
  return html`<div class="att chips" data-kind="quick-replies">
    ${replies.map((reply) => {
      const label = text(reply.label) ?? text(reply.value) ?? '';
      const url = reply.valueType === 'URL' ? safeUrl(reply.value) : undefined;
      return url === undefined
        ? html`<span class="chip">${label}</span>`
        : html`<a class="chip" href="${url}" target="_blank" rel="noopener">${label}</a>`;
    })}
  </div>`;
}

function renderSocial(attachment: Record<string, unknown>): SafeHtml {
  const meta = (attachment.socialMetadata ?? {}) as Record<string, unknown>;
  const url = safeUrl(meta.mediaUrl) ?? safeUrl(meta.mediaUrlString);
  return html`<div class="att box" data-kind="social">
    <strong>${text(meta.mediaTitle) ?? text(meta.mediaType) ?? 'Post'}</strong>
    ${text(meta.description) === undefined ? '' : html`<div>${text(meta.description)}</div>`}
    ${url === undefined ? '' : html`<a href="${url}" target="_blank" rel="noopener">Open</a>`}
  </div>`;
}

/** One attachment of a message, rendered by kind (the shapes of §1.7). */
export function renderAttachment(attachment: Record<string, unknown>, lookup: FileLookup): SafeHtml {
  switch (attachment.type) {
    case 'FILE':
      return renderFile(attachment, lookup);
    case 'LOCATION':
      return renderLocation(attachment);
    case 'CONTACT':
      return renderContactCard(attachment);
    case 'QUICK_REPLIES':
      return renderQuickReplies(attachment);
    case 'MESSAGE_HEADER':
      return html`<div class="att muted" data-kind="header">${text(attachment.text) ?? ''}</div>`;
    case 'SOCIAL_MEDIA_METADATA':
      return renderSocial(attachment);
    default:
      return html`<div class="att box" data-kind="unsupported">
        This message contains content that can't be shown in the inbox. Check the original app.
      </div>`;
  }
}
