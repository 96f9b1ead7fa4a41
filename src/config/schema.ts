import { z } from 'zod';
import { tryParseDuration } from '../timeutil/index.js';

export const ENDPOINT_TYPES = ['prometheus', 'mimir', 'grafana', 'loki', 'jaeger', 'tempo'] as const;
export type EndpointType = (typeof ENDPOINT_TYPES)[number];

const duration = z
  .string()
  .refine((s) => tryParseDuration(s) !== undefined, { message: 'expected a duration such as 30s, 5m or 1h' });
/** A timeout of 0 would mean "wait forever": a hung server would hang stackshift with it. */
const timeout = duration.refine((s) => (tryParseDuration(s) ?? 0) > 0, {
  message: 'must be above 0 (a zero timeout would wait forever); use a duration such as 30s',
});

export const TlsSchema = z
  .object({
    ca_file: z.string().optional(),
    cert_file: z.string().optional(),
    key_file: z.string().optional(),
    server_name: z.string().optional(),
    insecure_skip_verify: z.boolean().optional(),
  })
  .strict();

export const BasicAuthSchema = z
  .object({
    username: z.string().min(1),
    password: z.string().optional(),
    password_file: z.string().optional(),
  })
  .strict()
  .refine((b) => !(b.password && b.password_file), { message: 'set password or password_file, not both' });

export const EndpointSchema = z
  .object({
    type: z.enum(ENDPOINT_TYPES).optional(),
    url: z.string().url({ message: 'expected an absolute URL such as http://prometheus:9090' }),
    tenant: z.string().min(1).optional(),
    bearer_token: z.string().optional(),
    bearer_token_file: z.string().optional(),
    basic_auth: BasicAuthSchema.optional(),
    headers: z.record(z.string(), z.string()).optional(),
    tls: TlsSchema.optional(),
    timeout: timeout.optional(),
    retries: z.number().int().min(0).max(20).optional(),
  })
  .strict()
  .refine((e) => !(e.bearer_token && e.bearer_token_file), {
    message: 'set bearer_token or bearer_token_file, not both',
  })
  .refine((e) => !((e.bearer_token || e.bearer_token_file) && e.basic_auth), {
    message: 'set either bearer token or basic_auth, not both',
  });

export const ConfigSchema = z
  .object({
    endpoints: z
      .record(
        z.string().regex(/^[a-z][a-z0-9_-]*$/, 'endpoint names are lower-case letters, digits, _ and -'),
        EndpointSchema,
      )
      .optional(),
    state: z.object({ dir: z.string().optional() }).strict().optional(),
    output: z.enum(['text', 'json', 'markdown']).optional(),
  })
  .strict();

export type EndpointConfig = z.infer<typeof EndpointSchema>;
export type StackshiftConfig = z.infer<typeof ConfigSchema>;
