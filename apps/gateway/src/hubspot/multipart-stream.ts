import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

export interface MultipartFile {
  readonly fileName: string;
  readonly mimeType: string;
  readonly content: NodeJS.ReadableStream;
}

function quoted(value: string): string {
  return value.replace(/["\\\r\n]/g, (character) => encodeURIComponent(character));
}

/**
 * A `multipart/form-data` body whose file part is piped from `file.content` chunk by chunk: the file is
 * never held whole in memory, however large it is.
 */
export function multipartStream(
  fields: Readonly<Record<string, string>>,
  file: MultipartFile,
): { readonly contentType: string; readonly body: ReadableStream<Uint8Array> } {
  const boundary = `----inbox-bridge-${randomBytes(12).toString('hex')}`;
  const head = Object.entries(fields)
    .map(
      ([name, value]) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"\r\n\r\n${value}\r\n`,
    )
    .join('');
  const fileHead =
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quoted(file.fileName)}"\r\n` +
    `Content-Type: ${file.mimeType.replace(/[\r\n]/g, '')}\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  async function* parts(): AsyncGenerator<Uint8Array> {
    yield Buffer.from(head + fileHead, 'utf8');
    for await (const chunk of file.content as AsyncIterable<Buffer | string>) {
      yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    }
    yield Buffer.from(tail, 'utf8');
  }
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: Readable.toWeb(Readable.from(parts())) as ReadableStream<Uint8Array>,
  };
}
