/** A MemberMessenger that records what members would receive, with injectable failures. */
import type { MemberMessenger, MessageTarget } from '../../activities/messenger';

export interface CapturedMessage {
  target: MessageTarget;
  subject: string;
  body: string;
  at: number;
}

export interface CaptureMessenger extends MemberMessenger {
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
