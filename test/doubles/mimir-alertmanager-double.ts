import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';

/**
 * A contract double of Mimir's Alertmanager configuration API, for tests only (Mimir is AGPL and not installed
 * here), from Mimir's documentation (references/http-api, "Alertmanager": Get / Set / Delete Alertmanager
 * configuration) and the answers of pkg/alertmanager/api.go:
 *
 * - every request needs X-Scope-OrgID: else 401 "unable to determine the OrgID: no org id"
 * - GET /api/v1/alerts: 200 YAML {template_files, alertmanager_config}; none stored: 404 "alertmanager storage
 *   object not found"
 * - POST /api/v1/alerts: body that YAML; 201 with an empty body. 400 "error marshalling YAML Alertmanager config:
 *   ..." when it does not parse; 400 "error validating Alertmanager config: ..." when alertmanager_config is
 *   empty ("configuration provided is empty, if you'd like to remove your configuration please use the delete
 *   configuration endpoint"), names a template with a path ("invalid template name ...: the template name
 *   cannot contain any path"), uses a *_file setting (validateAlertmanagerConfig: "setting password_file is not
 *   allowed", ...), or does not load: Mimir loads it with Alertmanager's own config.Load and templates, which the
 *   double does with the real `amtool check-config` of the lab (config and templates side by side)
 * - DELETE /api/v1/alerts: 200, also when nothing is stored
 */
export interface MimirAlertmanagerDouble {
  url: string;
  /** Every request as "METHOD /path tenant=<id>". */
  calls: string[];
  stored(tenant: string): { template_files: Record<string, string>; alertmanager_config: string } | undefined;
  close(): Promise<void>;
}

const FILE_SETTINGS: Record<string, string> = {
  password_file: 'setting password_file is not allowed',
  username_file: 'setting username_file is not allowed',
  bearer_token_file: 'setting bearer_token_file and credentials_file is not allowed',
  credentials_file: 'setting bearer_token_file and credentials_file is not allowed',
  api_url_file: 'setting Slack api_url_file and global slack_api_url_file is not allowed',
  slack_api_url_file: 'setting Slack api_url_file and global slack_api_url_file is not allowed',
  url_file: 'setting Webhook url_file is not allowed',
  ca_file: 'setting TLS ca_file, cert_file and key_file is not allowed',
  cert_file: 'setting TLS ca_file, cert_file and key_file is not allowed',
  key_file: 'setting TLS ca_file, cert_file and key_file is not allowed',
};

function fileSetting(v: unknown): string | undefined {
  if (Array.isArray(v)) {
    for (const x of v) {
      const m = fileSetting(x);
      if (m) return m;
    }
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (/_file$/.test(k) && x) return FILE_SETTINGS[k] ?? `setting ${k} is not allowed`;
      const m = fileSetting(x);
      if (m) return m;
    }
  }
  return undefined;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startMimirAlertmanagerDouble(opts: { amtool: string }): Promise<MimirAlertmanagerDouble> {
  const store = new Map<string, { template_files: Record<string, string>; alertmanager_config: string }>();
  const calls: string[] = [];
  const validate = (cfg: {
    template_files: Record<string, string>;
    alertmanager_config: string;
  }): string | undefined => {
    if (!cfg.alertmanager_config)
      return "configuration provided is empty, if you'd like to remove your configuration please use the delete configuration endpoint";
    let doc: Record<string, unknown>;
    try {
      doc = (parseYaml(cfg.alertmanager_config) ?? {}) as Record<string, unknown>;
    } catch (e) {
      return (e as Error).message.split('\n')[0];
    }
    const bad = fileSetting(doc);
    if (bad) return bad;
    for (const name of [...((doc.templates as string[] | undefined) ?? []), ...Object.keys(cfg.template_files)]) {
      if (name.includes('/')) return `invalid template name "${name}": the template name cannot contain any path`;
    }
    const dir = mkdtempSync(join(tmpdir(), 'mimir-am-double-'));
    try {
      for (const [k, v] of Object.entries(cfg.template_files)) writeFileSync(join(dir, k), v);
      writeFileSync(join(dir, 'alertmanager.yml'), cfg.alertmanager_config);
      const r = spawnSync(opts.amtool, ['check-config', join(dir, 'alertmanager.yml')], { encoding: 'utf8' });
      if (r.status !== 0) {
        const out = `${r.stdout}${r.stderr}`;
        return (/FAILED: (.*)/.exec(out)?.[1] ?? out.trim().split('\n').pop() ?? 'invalid').trim();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return undefined;
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const tenant = req.headers['x-scope-orgid'];
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      calls.push(`${req.method} ${path} tenant=${String(tenant ?? '')}`);
      const text = (status: number, t: string, type = 'text/plain; charset=utf-8') => {
        res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(t) });
        res.end(t);
      };
      if (typeof tenant !== 'string' || !tenant) return text(401, 'unable to determine the OrgID: no org id\n');
      if (path !== '/api/v1/alerts') return text(404, '404 page not found\n');
      if (req.method === 'GET') {
        const c = store.get(tenant);
        if (!c) return text(404, 'alertmanager storage object not found\n');
        return text(200, stringify(c, { lineWidth: 0 }), 'application/yaml');
      }
      if (req.method === 'DELETE') {
        store.delete(tenant);
        return text(200, '');
      }
      if (req.method === 'POST') {
        let cfg: { template_files?: Record<string, string>; alertmanager_config?: string };
        try {
          cfg = (parseYaml(await body(req)) ?? {}) as typeof cfg;
        } catch (e) {
          return text(400, `error marshalling YAML Alertmanager config: ${(e as Error).message.split('\n')[0]}\n`);
        }
        const c = {
          template_files: cfg.template_files ?? {},
          alertmanager_config: String(cfg.alertmanager_config ?? ''),
        };
        const err = validate(c);
        if (err) return text(400, `error validating Alertmanager config: ${err}\n`);
        store.set(tenant, c);
        return text(201, '');
      }
      return text(405, 'method not allowed\n');
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    stored: (t) => store.get(t),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
