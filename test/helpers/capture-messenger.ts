/**
 * Member messages that record what members would receive, with injectable failures, plugged into the activities
 * through the Intercom workspace seam (only its messages face is wired; anything else refuses).
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { MemberMessages, MessageTarget } from '../../activities/intercom/messages';
import type { IntercomWorkspace } from '../../activities/intercom/workspace';

export interface CapturedMessage {
  target: MessageTarget;
  subject: string;
  body: string;
  at: number;
}

export interface CaptureMessenger extends MemberMessages {
  sent: CapturedMessage[];
  attempts: number;
  /** The next `times` sends fail with a transient error (as a 503 from the provider would). */
  failNext(times: number): void;
  to(customerId: string): CapturedMessage[];
}

export function createCaptureMessenger(): CaptureMessenger {
  let failures = 0;
  const m: CaptureMessenger = {
    channel: 'intercom',
    sent: [],
    attempts: 0,
    failNext(times) {
      failures = times;
    },
    to(customerId) {
      return m.sent.filter((s) => s.target.customerId === customerId);
    },
    async send(target, message) {
      m.attempts += 1;
      if (failures > 0) {
        failures -= 1;
        throw Object.assign(new Error('provider unavailable'), { statusCode: 503 });
      }
      m.sent.push({ target, ...message, at: Date.now() });
      return { requestId: `req_${m.sent.length}` };
    },
  };
  return m;
}

/** A workspace whose member messages are `messages`; contacts, tags, conversations and the admin are not wired. */
export function workspaceWithMessages(messages: MemberMessages): IntercomWorkspace {
  const refuse = async (): Promise<never> => {
    throw ApplicationFailure.nonRetryable('only member messages are wired in this test', 'IntercomNotConfigured');
  };
  return {
    messages,
    contacts: { ensureContact: refuse, forget: refuse },
    tags: { id: refuse, forget: () => undefined, tagContact: refuse, untagContact: refuse, tagConversation: refuse },
    conversations: { reply: refuse, assign: refuse },
    admin: { id: refuse },
    attributes: { ensure: refuse },
  };
}
