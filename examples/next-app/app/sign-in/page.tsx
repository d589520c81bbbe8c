import { signIn } from '../actions';

export default async function SignIn({ searchParams }: { searchParams: Promise<{ error?: string }> }) {
  const { error } = await searchParams;
  return (
    <>
      <h1>Sign in</h1>
      <p>A stub: type your user id (the one your Checkout carried as client_reference_id).</p>
      {error && <p className="notice">That is not a valid user id.</p>}
      <form action={signIn}>
        <label htmlFor="userId">User id</label>
        <input id="userId" name="userId" required autoComplete="username" />
        <button type="submit">Sign in</button>
      </form>
    </>
  );
}
