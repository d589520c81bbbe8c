import { SupportForm } from './support-form';

export default function Support() {
  return (
    <>
      <h1>Ask for help</h1>
      <p>Your message goes to memberops, which answers on your own channel (the Messenger or email).</p>
      <SupportForm />
    </>
  );
}
