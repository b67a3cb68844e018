import { createHash } from 'node:crypto';

/** One check's results inside a group, as k6's summary shows it. */
export interface CheckNode {
  readonly name: string;
  readonly path: string;
  readonly id: string;
  passes: number;
  fails: number;
}

/** A group with its sub-groups and checks, each in order of first use. */
export interface GroupNode {
  readonly name: string;
  readonly path: string;
  readonly id: string;
  readonly groups: GroupNode[];
  readonly checks: CheckNode[];
}

function idOf(path: string): string {
  return createHash('md5').update(path).digest('hex');
}

/**
 * The tree of groups and checks of a test (k6's root_group). Groups and checks appear in
 * the order they are first used; counts from several processes merge with `mergeFrom`.
 */
export class GroupTree {
  readonly root: GroupNode = { name: '', path: '', id: idOf(''), groups: [], checks: [] };
  private readonly groupsByPath = new Map<string, GroupNode>([['', this.root]]);
  private readonly checksByPath = new Map<string, CheckNode>();

  /** The group at `path` ('::a::b'), created (with its parents) on first use. */
  group(path: string): GroupNode {
    const found = this.groupsByPath.get(path);
    if (found !== undefined) return found;
    const cut = path.lastIndexOf('::');
    const parent = this.group(path.slice(0, cut));
    const node: GroupNode = { name: path.slice(cut + 2), path, id: idOf(path), groups: [], checks: [] };
    parent.groups.push(node);
    this.groupsByPath.set(path, node);
    return node;
  }

  /** Records one result of check `name` inside group `groupPath`. */
  check(groupPath: string, name: string, passed: boolean): void {
    const path = `${groupPath}::${name}`;
    let node = this.checksByPath.get(path);
    if (node === undefined) {
      node = { name, path, id: idOf(path), passes: 0, fails: 0 };
      this.group(groupPath).checks.push(node);
      this.checksByPath.set(path, node);
    }
    if (passed) node.passes++;
    else node.fails++;
  }

  /** Number of groups, the root excluded (for the 40-groups limit). */
  get groupCount(): number {
    return this.groupsByPath.size - 1;
  }

  /** Adds another tree's counts (from a worker or agent) into this one. */
  mergeFrom(other: GroupNode): void {
    const walk = (g: GroupNode): void => {
      this.group(g.path);
      for (const c of g.checks) {
        const path = c.path;
        let node = this.checksByPath.get(path);
        if (node === undefined) {
          node = { name: c.name, path, id: c.id, passes: 0, fails: 0 };
          this.group(g.path).checks.push(node);
          this.checksByPath.set(path, node);
        }
        node.passes += c.passes;
        node.fails += c.fails;
      }
      for (const sub of g.groups) walk(sub);
    };
    walk(other);
  }
}
