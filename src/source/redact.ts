const userinfo = /^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/i;
/** Values of query parameters (`?private_token=…&x=…`): any of them may be a credential. */
const queryValues = /([?&][^=&#\s]+=)[^&#\s'"]*/g;

/** Hides credentials in URLs: https://user:token@host/x?token=t → https://***@host/x?token=***. */
export function redactUrl(url: string): string {
  const hidden = url.replace(userinfo, '$1***@');
  const q = hidden.indexOf('?');
  return q === -1 ? hidden : hidden.slice(0, q) + hidden.slice(q).replace(queryValues, '$1***');
}

/** Hides every URL credential inside a free text (git error messages quote URLs). */
export function redactText(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi, (url) => redactUrl(url));
}
