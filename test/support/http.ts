/**
 * A small HTTP client for the e2e suites: real requests with the global fetch, a bearer token per call,
 * the body parsed as JSON when the answer says so.
 */

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  /** The raw body. */
  text: string;
  /** The body parsed as JSON when the content type is JSON, else the text. */
  body: T;
}

export interface CallOptions {
  /** Bearer token; omitted: no Authorization header. */
  token?: string;
  /** The Authorization header exactly as given (overrides `token`). */
  authorization?: string;
  headers?: Record<string, string>;
  /** A string is sent as is (with `contentType`); anything else as JSON. */
  body?: unknown;
  contentType?: string;
}

export class HttpClient {
  constructor(readonly base: string) {}

  async call<T = any>(method: string, path: string, o: CallOptions = {}): Promise<Answer<T>> {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.authorization !== undefined) headers.authorization = o.authorization;
    else if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
    let body: string | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      headers['content-type'] = o.contentType ?? (typeof o.body === 'string' ? 'application/x-ndjson' : 'application/json');
    }
    const res = await fetch(`${this.base}${path}`, { method, headers, body });
    const text = await res.text();
    const json = (res.headers.get('content-type') ?? '').includes('json');
    return { status: res.status, headers: res.headers, text, body: (json && text !== '' ? JSON.parse(text) : text) as T };
  }

  get<T = any>(path: string, o: CallOptions = {}): Promise<Answer<T>> {
    return this.call<T>('GET', path, o);
  }

  post<T = any>(path: string, o: CallOptions = {}): Promise<Answer<T>> {
    return this.call<T>('POST', path, o);
  }
}

/** `path` with `name=value` added to its query string. */
export function withQuery(path: string, name: string, value: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
}

/** Keys sorted recursively, so two documents compare by content only. */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}

/** RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF) into rows of fields; a trailing line break ends the last row. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
