/**
 * A directory nothing may be created in, even by root (tests run as root in containers): `chattr +i` for root,
 * mode 0555 otherwise. `undo` restores it so the directory can be removed.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync } from 'node:fs';

export function makeReadOnly(dir: string): { undo: () => void } {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555);
    return { undo: () => chmodSync(dir, 0o755) };
  }
  try {
    execFileSync('chattr', ['+i', dir], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(
      `cannot make ${dir} read-only as root: \`chattr +i\` failed (${(error as Error).message.trim()}). ` +
        'Fix: install e2fsprogs (chattr), use a file system that supports the immutable attribute for the temporary directory (TMPDIR), or run the tests as a non-root user.',
    );
  }
  return { undo: () => execFileSync('chattr', ['-i', dir], { stdio: 'pipe' }) };
}
