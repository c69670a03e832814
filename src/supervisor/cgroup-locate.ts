/**
 * Where this process's memory cgroup is, from the text of `/proc/self/cgroup` and
 * `/proc/self/mountinfo`. Pure: the files are read by cgroup.ts, so every layout (v1, v2, hybrid,
 * nested, inside a cgroup namespace or a container) is tested from fixtures.
 */
import path from 'node:path';

/** One cgroup filesystem mount: its mount point, the hierarchy path it exposes there, and its type. */
export interface CgroupMount {
  /** Where it is mounted, e.g. `/sys/fs/cgroup/memory`. */
  mountPoint: string;
  /** The path inside the hierarchy that appears at the mount point (`/` unless bind-mounted from deeper). */
  root: string;
  version: 1 | 2;
  /** v1: the controllers the hierarchy carries (`memory`, `cpu`, …); empty for v2. */
  controllers: string[];
}

/** The process's memory cgroup as a directory, and the directories of its ancestors up to the mount. */
export interface CgroupLocation {
  version: 1 | 2;
  /** The process's own cgroup directory. */
  dir: string;
  /** That directory and each ancestor up to and including the mount point, nearest first. */
  chain: string[];
}

/** mountinfo escapes spaces and a few other characters as octal (`\040`). */
const unescape = (field: string) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/** The cgroup and cgroup2 mounts listed in `/proc/self/mountinfo`. */
export function parseMountinfo(text: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    // id parent major:minor root mount-point options [optional fields…] - fstype source super-options
    const separator = line.indexOf(' - ');
    if (separator === -1) continue;
    const fields = line.slice(0, separator).split(' ');
    const [fstype, , superOptions = ''] = line.slice(separator + 3).split(' ');
    if (fields.length < 5 || (fstype !== 'cgroup' && fstype !== 'cgroup2')) continue;
    mounts.push({
      mountPoint: unescape(fields[4]!),
      root: unescape(fields[3]!),
      version: fstype === 'cgroup2' ? 2 : 1,
      controllers: fstype === 'cgroup' ? superOptions.split(',').filter((o) => o !== 'rw' && o !== 'ro') : [],
    });
  }
  return mounts;
}

/** From `/proc/self/cgroup`: the v1 memory controller's path and the v2 (`0::`) path, where present. */
export function parseProcCgroup(text: string): { v1Memory?: string; v2?: string } {
  const out: { v1Memory?: string; v2?: string } = {};
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, id, controllers, cgroupPath] = match;
    if (id === '0' && controllers === '') out.v2 = cgroupPath!;
    else if (controllers!.split(',').includes('memory')) out.v1Memory = cgroupPath!;
  }
  return out;
}

/**
 * The directory of `cgroupPath` under `mount`. The mount shows the hierarchy from `mount.root`
 * down, so that prefix is taken off; a path outside it (a process placed above a container's or a
 * namespace's root shows as `/..`) resolves to the mount point itself, the deepest directory visible.
 */
function dirUnder(mount: CgroupMount, cgroupPath: string): string {
  // Checked before normalizing: normalize('/../x') is '/x', which would point at the wrong cgroup.
  if (cgroupPath.split('/').includes('..')) return mount.mountPoint;
  const normalized = path.posix.normalize(cgroupPath);
  const root = mount.root === '/' ? '' : mount.root;
  const inside = root === '' ? normalized : normalized === root ? '/' : normalized.startsWith(`${root}/`) ? normalized.slice(root.length) : normalized;
  const dir = path.posix.join(mount.mountPoint, inside);
  return dir.length > 1 && dir.endsWith('/') ? dir.slice(0, -1) : dir;
}

/** `dir` and each parent up to and including `mountPoint`. */
function ancestors(dir: string, mountPoint: string): string[] {
  const chain = [dir];
  for (let current = dir; current !== mountPoint && current.startsWith(`${mountPoint}/`); ) {
    current = path.posix.dirname(current);
    chain.push(current);
  }
  return chain;
}

/**
 * The memory cgroup this process is charged to. A v1 memory controller wins when one is mounted and
 * listed (on a hybrid host memory is a v1 controller and the v2 hierarchy carries none); otherwise the
 * v2 (`0::`) path under the cgroup2 mount. Undefined when neither can be found (no cgroups, or not Linux).
 */
export function locateMemoryCgroup(procCgroup: string, mountinfo: string): CgroupLocation | undefined {
  const paths = parseProcCgroup(procCgroup);
  const mounts = parseMountinfo(mountinfo);
  const v1 = mounts.find((m) => m.version === 1 && m.controllers.includes('memory'));
  if (v1 && paths.v1Memory !== undefined) {
    const dir = dirUnder(v1, paths.v1Memory);
    return { version: 1, dir, chain: ancestors(dir, v1.mountPoint) };
  }
  // The unified hierarchy's usual mount is /sys/fs/cgroup; on hybrid hosts there is also /sys/fs/cgroup/unified.
  const v2 = mounts.filter((m) => m.version === 2).sort((a, b) => a.mountPoint.length - b.mountPoint.length)[0];
  if (v2 && paths.v2 !== undefined) {
    const dir = dirUnder(v2, paths.v2);
    return { version: 2, dir, chain: ancestors(dir, v2.mountPoint) };
  }
  return undefined;
}
