// A client-only single-page app: the node lives in the browser.
export const ssr = false;
export const prerender = false;
