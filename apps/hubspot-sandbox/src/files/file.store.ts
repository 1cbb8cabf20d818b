import { Injectable } from '@nestjs/common';

export const FILE_ACCESS = [
  'PUBLIC_INDEXABLE',
  'PUBLIC_NOT_INDEXABLE',
  'PRIVATE',
  'HIDDEN_INDEXABLE',
  'HIDDEN_NOT_INDEXABLE',
  'HIDDEN_PRIVATE',
  'HIDDEN_SENSITIVE',
  'SENSITIVE',
] as const;
export type FileAccess = (typeof FILE_ACCESS)[number];

export interface StoredFile {
  readonly id: string;
  readonly portalId: number;
  name: string;
  readonly extension: string;
  readonly folderId: string;
  /** Folder path + `/` + name + `.` + extension. */
  path: string;
  size: number;
  readonly type: string;
  mimeType: string;
  access: FileAccess;
  bytes: Buffer;
  sha256: string;
  readonly createdAt: string;
  updatedAt: string;
  /** From `options.ttl`: the file is gone after this instant. */
  expiresAt?: number;
  archived: boolean;
}

export interface Folder {
  readonly id: string;
  readonly portalId: number;
  /** `/a/b`, `''` for the root. */
  readonly path: string;
}

/** The File Manager (§5.1): files and folders of every portal, bytes in memory. */
/** `POST /files/v3/files/import-from-url/async`: HubSpot fetches `url` in the background. */
export interface ImportTask {
  readonly id: string;
  readonly portalId: number;
  status: 'PENDING' | 'PROCESSING' | 'COMPLETE' | 'CANCELED';
  readonly requestedAt: string;
  startedAt?: string;
  completedAt?: string;
  fileId?: string;
  error?: string;
}

@Injectable()
export class FileStore {
  /** Import-from-URL tasks by task id. */
  readonly importTasks = new Map<string, ImportTask>();
  private readonly files = new Map<string, StoredFile>();
  private readonly folders = new Map<string, Folder>();

  saveFile(file: StoredFile): StoredFile {
    this.files.set(file.id, file);
    return file;
  }

  /** A live file of the portal (not archived, not past its ttl). */
  file(portalId: number, id: string): StoredFile | undefined {
    const file = this.files.get(id);
    if (
      file?.portalId !== portalId ||
      file.archived ||
      (file.expiresAt !== undefined && file.expiresAt <= Date.now())
    ) {
      return undefined;
    }
    return file;
  }

  portalFiles(portalId: number): StoredFile[] {
    return [...this.files.values()].filter((file) => this.file(portalId, file.id) !== undefined);
  }

  saveFolder(folder: Folder): Folder {
    this.folders.set(folder.id, folder);
    return folder;
  }

  folder(portalId: number, id: string): Folder | undefined {
    const folder = this.folders.get(id);
    return folder?.portalId === portalId ? folder : undefined;
  }

  folderByPath(portalId: number, path: string): Folder | undefined {
    return [...this.folders.values()].find((folder) => folder.portalId === portalId && folder.path === path);
  }

  reset(): void {
    this.importTasks.clear();
    this.files.clear();
    this.folders.clear();
  }
}
