import { expect } from '@jest/globals';

/** The popup's form as a browser holds it: the CSRF cookie and the hidden fields. */
export interface PopupForm {
  readonly cookie: string;
  readonly fields: Record<string, string>;
}

/** Opens the form as a browser would: keeps the cookie and the hidden fields. */
export async function openPopupForm(url: URL): Promise<PopupForm> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  const html = await response.text();
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[match[1] ?? ''] = (match[2] ?? '').replaceAll('&amp;', '&');
  }
  return { cookie, fields };
}

/** Posts the form with `values` (redirects not followed), with the form's cookie unless another is given. */
export function submitPopupForm(
  gatewayUrl: string,
  form: PopupForm,
  values: Record<string, string>,
  cookie = form.cookie,
): Promise<Response> {
  return fetch(new URL('/connect', gatewayUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie === '' ? {} : { cookie }) },
    body: new URLSearchParams({ ...form.fields, ...values }).toString(),
  });
}
