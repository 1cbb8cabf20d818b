/**
 * Telegram Bot API wire shapes, modelled locally from docs/providers-api.md §1.5–§1.9 (never imported from
 * the connector). Only the fields the sandbox emits; optional fields are omitted rather than set to null.
 */
export interface TgUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
  is_premium?: boolean;
}

export interface TgBotUser extends TgUser {
  can_join_groups: boolean;
  can_read_all_group_messages: boolean;
  supports_inline_queries: boolean;
  can_connect_to_business: boolean;
  has_main_web_app: boolean;
}

export interface TgChat {
  id: number;
  /** Groups, supergroups and channels. */
  title?: string;
  first_name?: string;
  last_name?: string;
  username?: string;
  type: 'private' | 'group' | 'supergroup' | 'channel';
}

export interface TgMessageEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
}

export interface TgPhotoSize {
  file_id: string;
  file_unique_id: string;
  file_size?: number;
  width: number;
  height: number;
}

export interface TgFileBase {
  file_id: string;
  file_unique_id: string;
  file_size?: number;
}

export interface TgMessage {
  message_id: number;
  from?: TgUser;
  chat: TgChat;
  date: number;
  edit_date?: number;
  reply_to_message?: TgMessage;
  text?: string;
  entities?: TgMessageEntity[];
  caption?: string;
  caption_entities?: TgMessageEntity[];
  [content: string]: unknown;
}

export interface TgChatMemberUpdated {
  chat: TgChat;
  from: TgUser;
  date: number;
  old_chat_member: { user: TgUser; status: string };
  new_chat_member: { user: TgUser; status: string; until_date?: number };
}

/** An `Update`: `update_id` plus exactly one payload field (`message`, `edited_message`, `poll`, ...). */
export interface TgUpdate {
  update_id: number;
  [kind: string]: unknown;
}

export interface TgWebhookInfo {
  url: string;
  has_custom_certificate: boolean;
  pending_update_count: number;
  ip_address?: string;
  last_error_date?: number;
  last_error_message?: string;
  max_connections?: number;
  allowed_updates?: string[];
}

export interface TgFile {
  file_id: string;
  file_unique_id: string;
  file_size?: number;
  file_path?: string;
}

/** Update kinds delivered when `allowed_updates` is empty or was never set. */
export const DEFAULT_EXCLUDED_UPDATES: readonly string[] = [
  'chat_member',
  'message_reaction',
  'message_reaction_count',
];
