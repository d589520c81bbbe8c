/** The console's one stylesheet, served by us at /admin/console.css (the CSP allows styles from 'self' only). */
export const CONSOLE_CSS = `
:root{--fg:#1d2330;--muted:#5f6b7a;--line:#dfe3e8;--bg:#f7f8fa;--ok:#17753a;--warn:#9a5b00;--bad:#b3261e;--accent:#2f55d4}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;gap:1rem;align-items:center;padding:.6rem 1.2rem;background:#fff;border-bottom:1px solid var(--line)}
header .who{margin-left:auto;color:var(--muted)}
header form{display:inline}
main{padding:1rem 1.2rem;max-width:1200px}
h1{font-size:1.35rem;margin:.2rem 0 .8rem}
h2{font-size:1.05rem;margin:0 0 .5rem}
a{color:var(--accent)}
section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.8rem 1rem;margin:0 0 1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:1rem}
.grid section{margin:0}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:.85rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}
dt{color:var(--muted)}
dd{margin:0;overflow-wrap:anywhere}
.counts{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1rem;padding:0;list-style:none}
.counts a{display:block;padding:.4rem .7rem;background:#fff;border:1px solid var(--line);border-radius:6px;text-decoration:none;color:var(--fg)}
.counts a.on{border-color:var(--accent)}
.counts b{display:block;font-size:1.2rem}
.badge{display:inline-block;padding:0 .45rem;border-radius:999px;font-size:.8rem;background:#e8ebf0}
.s-active,.s-trialing,.r-ok{background:#dff3e5;color:var(--ok)}
.s-grace_period,.r-rejected{background:#fff0d6;color:var(--warn)}
.s-past_due,.s-canceled,.s-refunded,.r-failed{background:#fde2e0;color:var(--bad)}
.muted{color:var(--muted)}
.flash{padding:.6rem .9rem;border-radius:6px;margin:0 0 1rem;border:1px solid}
.flash.ok{background:#dff3e5;border-color:#9fd5b0}
.flash.rejected,.flash.failed{background:#fde2e0;border-color:#f0a8a2}
form.inline{display:flex;flex-wrap:wrap;gap:.4rem;align-items:end;margin:.3rem 0 .7rem}
input,select,button,textarea{font:inherit;padding:.3rem .5rem;border:1px solid var(--line);border-radius:4px}
button{background:var(--accent);color:#fff;border-color:var(--accent);cursor:pointer}
header button{background:#fff;color:var(--fg);border-color:var(--line)}
.pager{display:flex;gap:1rem;margin:.6rem 0}
code{font-size:.85em}
td.warn{color:var(--warn);font-weight:600}
`;
