// Types of seed.mjs for the TypeScript callers (the end-to-end tests).
export declare const DEMO_PORTAL_ID: number;
export declare const DEMO_INBOX_ID: string;
export declare const DEMO_HELP_DESK_ID: string;

export interface SandboxBot {
  readonly id: number;
  readonly token: string;
  readonly username: string;
}
export interface ConnectedAccount {
  readonly channelAccountId: string;
  readonly portalId: string;
  readonly inboxId: string;
  readonly provider: string;
  readonly name: string;
}

export declare function seedPortal(options: { hubspotUrl: string }): Promise<void>;
export declare function registerChannel(options: { gatewayUrl: string; opsToken: string }): Promise<string>;
export declare function installApp(options: {
  gatewayUrl: string;
  hubspotUrl: string;
  portalId: number;
  userId: number;
}): Promise<void>;
export declare function connectTelegramBot(options: {
  gatewayUrl: string;
  providerUrl: string;
  portalAdminToken: string;
  inboxId?: string;
}): Promise<{ bot: SandboxBot; account: ConnectedAccount }>;
export declare function seedDemo(options: {
  gatewayUrl: string;
  hubspotUrl: string;
  providerUrl: string;
  opsToken: string;
  portalAdminToken: string;
  log?: (line: string) => void;
}): Promise<{ channelId: string; bot: SandboxBot; account: ConnectedAccount }>;
