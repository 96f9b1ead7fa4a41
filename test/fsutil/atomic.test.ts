import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  backupFile,
  copyAccessOf,
  resetSweptDirs,
  resolveWriteTarget,
  sweepStrayTemps,
  writeFileAtomic,
  writeFileAtomicAsync,
} from '../../src/fsutil/index.js';
import { tempDir } from '../harness/index.js';

/** A uid/gid that is not ours: the owner a replaced file must keep (tests run as root, so chown works). */
export const OTHER = { uid: 4321, gid: 4322 };
const isRoot = process.getuid?.() === 0;

const modeOf = (p: string) => statSync(p).mode & 0o7777;

/** A 0600 file owned by someone else, as `/etc/prometheus/prometheus.yml` holding a password would be. */
function privateFile(dir: string, name: string, bytes: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  chmodSync(p, 0o600);
  if (isRoot) chownSync(p, OTHER.uid, OTHER.gid);
  return p;
}

for (const [label, write] of [
  ['writeFileAtomic', async (p: string, d: string) => writeFileAtomic(p, d)],
  ['writeFileAtomicAsync', (p: string, d: string) => writeFileAtomicAsync(p, d)],
] as const) {
  test(
    `${label}: a 0600 file owned by another user keeps its mode and owner`,
    { skip: !isRoot && 'needs root to chown' },
    async (t) => {
      const dir = tempDir(t);
      const p = privateFile(dir, 'prometheus.yml', 'password: secret\n');
      await write(p, 'password: secret # edited\n');
      assert.equal(readFileSync(p, 'utf8'), 'password: secret # edited\n');
      assert.equal(modeOf(p).toString(8), '600');
      assert.deepEqual({ uid: statSync(p).uid, gid: statSync(p).gid }, OTHER);
      assert.deepEqual(readdirSync(dir), ['prometheus.yml'], 'no temp file left');
    },
  );

  test(`${label}: a symlink is followed; the link stays a link and its real file gets the content`, async (t) => {
    const dir = tempDir(t);
    const real = join(dir, 'real.json');
    writeFileSync(real, 'old');
    chmodSync(real, 0o640);
    symlinkSync('real.json', join(dir, 'link.json'));
    // a chain of two links, the second relative to its own directory
    symlinkSync(join(dir, 'link.json'), join(dir, 'link2.json'));
    await write(join(dir, 'link2.json'), 'new');
    assert.ok(lstatSync(join(dir, 'link.json')).isSymbolicLink());
    assert.ok(lstatSync(join(dir, 'link2.json')).isSymbolicLink());
    assert.equal(readlinkSync(join(dir, 'link.json')), 'real.json');
    assert.equal(readFileSync(real, 'utf8'), 'new');
    assert.equal(modeOf(real).toString(8), '640');
  });
}

test('a dangling symlink is written through: the file it names is created, the link kept', async (t) => {
  const dir = tempDir(t);
  symlinkSync('target.yml', join(dir, 'link.yml'));
  assert.equal(resolveWriteTarget(join(dir, 'link.yml')), join(dir, 'target.yml'));
  writeFileAtomic(join(dir, 'link.yml'), 'x');
  assert.ok(lstatSync(join(dir, 'link.yml')).isSymbolicLink());
  assert.equal(readFileSync(join(dir, 'target.yml'), 'utf8'), 'x');
  symlinkSync('loop-b', join(dir, 'loop-a'));
  symlinkSync('loop-a', join(dir, 'loop-b'));
  assert.throws(() => writeFileAtomic(join(dir, 'loop-a'), 'x'), /too many levels of symbolic links/);
});

test(
  'backupFile: raw bytes, the source mode and owner, never more open than the source',
  { skip: !isRoot && 'needs root to chown' },
  async (t) => {
    const dir = tempDir(t);
    const latin1 = Buffer.from('{"title": "Caf\xe9"}\n', 'latin1');
    const p = privateFile(dir, 'dash.json', latin1);
    const b = backupFile(p, new Date('2026-01-02T03:04:05Z'));
    assert.ok(readFileSync(b).equals(latin1), 'byte-exact');
    assert.equal(modeOf(b).toString(8), '600');
    assert.deepEqual({ uid: statSync(b).uid, gid: statSync(b).gid }, OTHER);
    // through a symlink: the real file's bytes, beside the path given
    symlinkSync('dash.json', join(dir, 'via-link.json'));
    const b2 = backupFile(join(dir, 'via-link.json'), new Date('2026-01-02T03:04:05Z'));
    assert.ok(b2.startsWith(join(dir, 'via-link.json.stackshift-')));
    assert.ok(readFileSync(b2).equals(latin1));
    assert.ok(!lstatSync(b2).isSymbolicLink());
    assert.equal(modeOf(b2).toString(8), '600');
  },
);

test('copyAccessOf: a copy written over an earlier, more open copy takes the source mode', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src.yml');
  writeFileSync(src, 'a');
  chmodSync(src, 0o600);
  const out = join(dir, 'out.yml');
  writeFileSync(out, 'old');
  chmodSync(out, 0o644);
  writeFileAtomic(out, 'a', copyAccessOf(src));
  assert.equal(modeOf(out).toString(8), '600');
  const fresh = join(dir, 'sub', 'new.yml');
  await writeFileAtomicAsync(fresh, 'a', copyAccessOf(src));
  assert.equal(modeOf(fresh).toString(8), '600');
});

test("stray temp files of a killed writer are removed on the next write; a live writer's are kept", async (t) => {
  const dir = tempDir(t);
  // pid_max is at most 4194304 on Linux: this pid cannot be running.
  const dead = join(dir, '.prometheus.yml.4194305.0badf00d.tmp');
  const live = join(dir, `.prometheus.yml.${process.ppid}.0badf00d.tmp`);
  const other = join(dir, '.keep.tmp');
  for (const p of [dead, live, other]) writeFileSync(p, 'half');
  resetSweptDirs();
  writeFileAtomic(join(dir, 'prometheus.yml'), 'x');
  assert.equal(existsSync(dead), false, "the dead writer's temp file is gone");
  assert.equal(existsSync(live), true, "a running process's temp file is not touched");
  assert.equal(existsSync(other), true, 'files not named like ours are not touched');
  assert.deepEqual(sweepStrayTemps(dir), [], 'swept once per directory per process');
});
