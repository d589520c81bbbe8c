/** The server-rendered sign-in form (the console's pages are in views/). No scripts, no third parties. */

const escape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)} · memberops</title></head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

export function loginPage(opts: { csrfToken: string; error?: string; email?: string }): string {
  return page(
    'Sign in',
    `<h1>memberops: founder sign-in</h1>
${opts.error ? `<p role="alert">${escape(opts.error)}</p>` : ''}
<form method="post" action="/admin/login">
<input type="hidden" name="_csrf" value="${escape(opts.csrfToken)}">
<p><label>Email <input type="email" name="email" autocomplete="username" required value="${escape(opts.email ?? '')}"></label></p>
<p><label>Password <input type="password" name="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Sign in</button></p>
</form>`,
  );
}
