/** Where member-facing messages go: Intercom when configured, otherwise the log. */
import type { Logger } from '../lib/logger';

export interface MessageTarget {
  customerId: string;
  email: string | null;
  appUserId?: string | null;
}

export interface MemberMessenger {
  readonly channel: 'intercom' | 'log';
  /** Sends one message; throws on failure (the activity classifies it). */
  send(target: MessageTarget, message: { subject: string; body: string }): Promise<{ requestId?: string }>;
}

/** Used when Intercom is not configured: the message is logged (without the body's links) and counted as sent. */
export function createLogMessenger(log: Logger): MemberMessenger {
  return {
    channel: 'log',
    async send(target, message) {
      log.info({ customerId: target.customerId, subject: message.subject }, 'member notice (Intercom not configured: logged only)');
      return {};
    },
  };
}
