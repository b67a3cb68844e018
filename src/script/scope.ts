// Lexical scopes of the bundle, enough to tell which declaration an identifier refers to.
// The bundle is strict code (ES modules), so block-level function declarations are block
// scoped and there is no `with` or sloppy `eval` to worry about.

/** An acorn AST node, loosely typed: the walkers look at fields by node type (internal only). */
export type AstNode = { type: string; start: number; end: number; [key: string]: any };

/** One declared name. `fnSources` are expressions assigned to it that may be functions. */
export interface Binding {
  readonly name: string;
  readonly scope: Scope;
  /** Expressions written to this name (function nodes, or identifiers that alias one). */
  readonly fnSources: AstNode[];
  /** Function nodes this name may hold (filled by the transform's fixpoint). */
  readonly fns: Set<AstNode>;
  /** The module specifier when this is esbuild's `var x = __toESM(require("k6/http"))`. */
  module?: string;
}

/** A lexical scope; `isFunction` marks the scopes `var` declarations hoist to. */
export class Scope {
  readonly vars = new Map<string, Binding>();

  constructor(
    readonly parent: Scope | null,
    readonly isFunction: boolean,
  ) {}

  /** Declares `name` here (a second declaration of the same name reuses the binding). */
  declare(name: string): Binding {
    let b = this.vars.get(name);
    if (b === undefined) {
      b = { name, scope: this, fnSources: [], fns: new Set() };
      this.vars.set(name, b);
    }
    return b;
  }

  /** The binding `name` refers to from this scope, or undefined for a free (global) name. */
  lookup(name: string): Binding | undefined {
    for (let s: Scope | null = this; s !== null; s = s.parent) {
      const b = s.vars.get(name);
      if (b !== undefined) return b;
    }
    return undefined;
  }

  /** The nearest enclosing function (or program) scope. */
  functionScope(): Scope {
    let s: Scope = this;
    while (!s.isFunction && s.parent !== null) s = s.parent;
    return s;
  }
}

const SKIP_KEYS = new Set(['type', 'start', 'end', 'loc', 'range', 'raw', 'regex', 'bigint']);

/** The child nodes of `node`, in source order of their fields. */
export function childNodes(node: AstNode): AstNode[] {
  const out: AstNode[] = [];
  for (const key of Object.keys(node)) {
    if (SKIP_KEYS.has(key)) continue;
    const v: unknown = node[key];
    if (Array.isArray(v)) {
      for (const c of v) if (isNode(c)) out.push(c);
    } else if (isNode(v)) out.push(v);
  }
  return out;
}

function isNode(v: unknown): v is AstNode {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';
}

/** The identifiers a binding pattern declares. */
export function patternIdentifiers(p: AstNode | null | undefined, out: AstNode[] = []): AstNode[] {
  if (p == null) return out;
  switch (p.type) {
    case 'Identifier':
      out.push(p);
      break;
    case 'ObjectPattern':
      for (const prop of p.properties) patternIdentifiers(prop.type === 'RestElement' ? prop.argument : prop.value, out);
      break;
    case 'ArrayPattern':
      for (const el of p.elements) patternIdentifiers(el, out);
      break;
    case 'AssignmentPattern':
      patternIdentifiers(p.left, out);
      break;
    case 'RestElement':
      patternIdentifiers(p.argument, out);
      break;
    default:
      break;
  }
  return out;
}

/** True for the three function node types. */
export function isFunctionNode(n: AstNode | null | undefined): boolean {
  return n != null && (n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression');
}

/**
 * First pass: creates the scope of every scope-making node and declares every name in it,
 * so that the second pass can resolve references to declarations that come later (hoisting).
 */
export function buildScopes(program: AstNode): Map<AstNode, Scope> {
  const scopes = new Map<AstNode, Scope>();
  const root = new Scope(null, true);
  scopes.set(program, root);

  const declarePattern = (p: AstNode | null | undefined, scope: Scope): void => {
    for (const id of patternIdentifiers(p)) scope.declare(id.name as string);
  };

  const walk = (node: AstNode, scope: Scope): void => {
    switch (node.type) {
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression': {
        if (node.type === 'FunctionDeclaration' && node.id) scope.declare(node.id.name);
        const fs = new Scope(scope, true);
        scopes.set(node, fs);
        if (node.type === 'FunctionExpression' && node.id) fs.declare(node.id.name);
        for (const p of node.params) declarePattern(p, fs);
        for (const p of node.params) walk(p, fs);
        if (node.body.type === 'BlockStatement') for (const s of node.body.body) walk(s, fs);
        else walk(node.body, fs);
        return;
      }
      case 'ClassDeclaration':
        if (node.id) scope.declare(node.id.name);
        break;
      case 'ClassExpression':
        if (node.id) {
          const cs = new Scope(scope, false);
          scopes.set(node, cs);
          cs.declare(node.id.name);
          scope = cs;
        }
        break;
      case 'VariableDeclaration': {
        const target = node.kind === 'var' ? scope.functionScope() : scope;
        for (const d of node.declarations) declarePattern(d.id, target);
        break;
      }
      case 'BlockStatement':
      case 'StaticBlock':
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement':
      case 'SwitchStatement': {
        const bs = new Scope(scope, node.type === 'StaticBlock');
        scopes.set(node, bs);
        scope = bs;
        break;
      }
      case 'CatchClause': {
        const cs = new Scope(scope, false);
        scopes.set(node, cs);
        declarePattern(node.param, cs);
        scope = cs;
        break;
      }
      default:
        break;
    }
    for (const c of childNodes(node)) walk(c, scope);
  };

  for (const s of program.body as AstNode[]) walk(s, root);
  return scopes;
}
