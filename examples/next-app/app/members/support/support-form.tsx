'use client';
import { useActionState } from 'react';
import { sendSupportRequest, type SupportFormState } from '../../actions';

export function SupportForm() {
  const [state, action, pending] = useActionState<SupportFormState, FormData>(sendSupportRequest, {});
  if (state.sent) {
    return (
      <p className="ok" data-testid="support-sent">
        Thanks, we got it (request {state.sent.requestId}). The answer will reach you on your own channel.
      </p>
    );
  }
  return (
    <form action={action}>
      {state.error && <p className="notice">{state.error}</p>}
      <label htmlFor="subject">Subject</label>
      <input id="subject" name="subject" maxLength={500} />
      <label htmlFor="body">Message</label>
      <textarea id="body" name="body" required maxLength={10000} rows={6} />
      <button type="submit" disabled={pending}>
        Send
      </button>
    </form>
  );
}
