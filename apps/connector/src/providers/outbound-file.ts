import type { Readable } from 'node:stream';
import { HttpTransportError, limitedStream, type OutboundHttp } from '../http/outbound-http.js';
import { SendFailure, type OutboundFile } from './provider-port.js';

export interface OpenedFile {
  readonly body: Readable;
  readonly contentType: string;
  readonly contentLength: number | undefined;
}

function megabytes(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
}

/** Refuses a file the provider would reject for its size, before anything is downloaded or sent. */
export function assertFileFits(file: OutboundFile, limitBytes: number, providerName: string): void {
  if (file.sizeBytes !== undefined && file.sizeBytes > limitBytes) {
    throw new SendFailure(
      'permanent',
      `The file “${file.fileName}” (${megabytes(file.sizeBytes)}) is larger than ${providerName} accepts (${megabytes(limitBytes)}).`,
      'FILE_TOO_LARGE',
    );
  }
}

/**
 * Streams a rep's attachment from the gateway's `/internal/files` (the HubSpot file), cut off at `limitBytes`.
 * A refused or missing file is permanent (the link or the file is gone); an unreachable gateway is transient.
 */
export async function openOutboundFile(
  http: OutboundHttp,
  file: OutboundFile,
  limitBytes: number,
  providerName: string,
): Promise<OpenedFile> {
  assertFileFits(file, limitBytes, providerName);
  let response;
  try {
    response = await http.request({ method: 'GET', url: file.internalUrl });
  } catch (error) {
    if (error instanceof HttpTransportError) {
      throw new SendFailure('transient', 'The attachment could not be fetched from HubSpot yet.', error.code);
    }
    throw error;
  }
  if (response.status !== 200) {
    response.discard();
    if (response.status >= 500 || response.status === 429) {
      throw new SendFailure(
        'transient',
        'The attachment could not be fetched from HubSpot yet.',
        String(response.status),
      );
    }
    throw new SendFailure(
      'permanent',
      `The attachment “${file.fileName}” could not be read from HubSpot (HTTP ${response.status}).`,
      String(response.status),
    );
  }
  const declared = Number(response.headers['content-length']);
  const contentLength = Number.isFinite(declared) && declared >= 0 ? declared : undefined;
  if (contentLength !== undefined && contentLength > limitBytes) {
    response.discard();
    assertFileFits({ ...file, sizeBytes: contentLength }, limitBytes, providerName);
  }
  const contentType = response.headers['content-type'] ?? file.mimeType;
  return { body: limitedStream(response.body, limitBytes), contentType, contentLength };
}
