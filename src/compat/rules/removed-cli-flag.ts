import { REMOVED_CLI_FLAGS } from '../migration-facts.js';
import { atLeast } from '../ranges.js';
import { defineRule } from '../rule.js';

export default defineRule({
  id: 'removed-cli-flag',
  title: 'command-line flag removed: Prometheus does not start',
  severity: 'error',
  phase: 'dual',
  versions: { to: '>=3.0.0' },
  source: 'diff of kingpin flags P@v2.55.1 vs P@v3.0.0:cmd/prometheus/main.go; guide',
  description:
    'Kingpin rejects unknown flags: 3.x prints "Error parsing command line arguments" and exits. Each of these has a 2.x-compatible replacement or had no effect, so the fix applies now.',
  checkFlags(ctx) {
    for (const arg of ctx.args) {
      const f = REMOVED_CLI_FLAGS.find((x) => x.flag === arg.name);
      if (!f || !atLeast(ctx.to, f.removedIn)) continue;
      const edits = !ctx.edit.editable
        ? []
        : f.renameTo
          ? ctx.edit.renameArg(arg, f.renameTo)
          : ctx.edit.removeArg(arg);
      ctx.report({
        message: `--${f.flag} does not exist in ${f.removedIn}: Prometheus refuses to start (on 2.x: ${f.note})`,
        at: { from: arg.nameFrom, to: arg.nameTo },
        fix: edits.length
          ? {
              description: f.renameTo ? `rename to --${f.renameTo}` : `delete --${f.flag}`,
              edits,
              validFrom: f.fixValidFrom,
            }
          : undefined,
      });
    }
  },
});
