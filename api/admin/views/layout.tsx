/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/** The console's page frame: header with the signed-in founder and sign-out, our stylesheet, no scripts. */
import type { ComponentChildren, VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';

export interface Frame {
  email: string;
  csrfToken: string;
}

export function Layout(props: Frame & { title: string; refreshSeconds?: number; children: ComponentChildren }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · memberops`}</title>
        <link rel="stylesheet" href="/admin/console.css" />
        {props.refreshSeconds ? <meta http-equiv="refresh" content={String(props.refreshSeconds)} /> : null}
      </head>
      <body>
        <header>
          <strong>
            <a href="/admin">memberops</a>
          </strong>
          <span class="who">
            Signed in as <strong data-testid="admin-email">{props.email}</strong>
          </span>
          <form method="post" action="/admin/logout">
            <input type="hidden" name="_csrf" value={props.csrfToken} />
            <button type="submit">Sign out</button>
          </form>
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

/** A whole page: preact escapes every value it renders (text and attributes). */
export const renderPage = (node: VNode): string => `<!doctype html>\n${renderToString(node)}`;

const TIME = new Intl.DateTimeFormat('en-GB', {
  dateStyle: 'medium',
  timeStyle: 'medium',
  timeZone: 'UTC',
});

/** A time as the founder reads it (UTC), with the exact ISO value in the element. */
export function Time({ at }: { at: Date | string | null | undefined }) {
  if (!at) return <span class="muted">—</span>;
  const d = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(d.getTime())) return <span class="muted">—</span>;
  return <time datetime={d.toISOString()}>{`${TIME.format(d)} UTC`}</time>;
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge s-${status}`}>{status}</span>;
}
