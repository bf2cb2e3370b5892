import { z } from 'zod';

export const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL, e.g. https://hooks.example.com/alerts' });
export const receiverName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected 1-64 letters, digits, _ . -');
/** Extra request headers, e.g. Authorization for the receiving tool. */
export const headers = z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'expected an HTTP header name'), z.string().max(4096)).optional();

/** A URL with its path and query hidden: what a reader (not an admin) may see of a secret-bearing URL. */
export const originOnly = (url: string) => `${new URL(url).origin}/…`;
/** Header names kept, values hidden. */
export const redactHeaders = (values: Record<string, string> | undefined) => (values ? Object.fromEntries(Object.keys(values).map((name) => [name, '<redacted>'])) : undefined);

export const truncate = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
