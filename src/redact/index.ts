/**
 * Process-wide registry of secret values. Every secret that stackshift reads (tokens, passwords,
 * basic-auth pairs) is registered here the moment it is loaded, so that logging, error formatting and
 * report writing can scrub it without each call site having to know which strings are sensitive.
 */
const secrets = new Set<string>();

export const REDACTED = '<redacted>';

export function registerSecret(value: string | undefined | null): void {
  if (!value) return;
  // Very short values would turn ordinary words into <redacted>; a 3-char token is not a real secret anyway.
  if (value.length < 4) return;
  secrets.add(value);
  // Basic auth travels base64-encoded; scrub that form too.
  secrets.add(Buffer.from(value).toString('base64'));
}

export function registerBasicAuth(user: string, password: string): void {
  registerSecret(password);
  registerSecret(Buffer.from(`${user}:${password}`).toString('base64'));
}

const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)([^/@\s:]+)(?::([^/@\s]*))?@/gi;
const AUTH_HEADER = /\b(authorization|x-api-key|cookie)(["']?\s*[:=]\s*["']?)(bearer\s+|basic\s+)?([^\s"',;]+)/gi;
const SECRET_QUERY = /([?&](?:token|access_token|api_key|apikey|password|passwd|secret)=)([^&\s#"']+)/gi;

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join(REDACTED);
  }
  out = out.replace(URL_USERINFO, (_m, scheme: string) => `${scheme}${REDACTED}@`);
  out = out.replace(
    AUTH_HEADER,
    (_m, name: string, sep: string, scheme: string | undefined) => `${name}${sep}${scheme ?? ''}${REDACTED}`,
  );
  out = out.replace(SECRET_QUERY, (_m, key: string) => `${key}${REDACTED}`);
  return out;
}

/** Deep-redacts any JSON-like value (used before writing reports or state). */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as unknown as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as unknown as T;
  if (value && typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] =
        /^(password|token|bearer_token|secret|authorization|api_key)$/i.test(k) && typeof v === 'string'
          ? REDACTED
          : redactDeep(v);
    }
    return out as T;
  }
  return value;
}

/** For tests only. */
export function clearSecrets(): void {
  secrets.clear();
}
