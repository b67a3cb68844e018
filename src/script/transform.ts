// The synchronous-style → async transform of the esbuild bundle.
//
// k6 scripts call blocking APIs (`http.get`, `sleep`, ...) as plain functions. On Node those
// return Promises, so every call that may reach one must be awaited, and every function that
// awaits must be `async`. The algorithm is a call-graph colouring over the whole bundle:
//
// 1. Scopes (scope.ts) resolve each identifier to its declaration. Each function records its
//    call sites. A callee is resolved to candidate functions: an identifier to the function
//    declarations/expressions bound to it (also through `const g = f` aliases), `obj.name(...)`,
//    `this.name(...)` and `super.name(...)` to every method, object-literal property or field
//    function named `name` (an over-approximation: awaiting a non-Promise is harmless), and
//    `f.call(...)`/`f.apply(...)` to `f`. Calls of the table in blocking-calls.ts, recognised on
//    esbuild's import variables (`import_http.default.get`, `(0, import_k6.sleep)`), are seeds.
// 2. Fixpoint: a function is coloured when one of its call sites is blocking, calls a coloured
//    function, or passes a coloured callback to an array method; repeat until nothing changes.
//    Functions the user already wrote `async` are never awaited by the transform (their callers
//    already get a Promise), but blocking calls inside them are.
// 3. Faithfulness: a coloured function that cannot become async (constructor, getter/setter,
//    generator, field initializer, a default parameter value, a callback of sort/replace/
//    Array.from/JSON/new Promise), or that escapes as a value to a place the transform does not
//    understand, is a `script_unsupported` error at the user's file:line:column. The rule for
//    values: a coloured function may only be called directly (also via .call/.apply), bound to a
//    name (`const f = ...`), stored as a method or object property (then called as `obj.name()`),
//    exported, or passed to a k6 API (group, check, ws.connect, ...), setTimeout/setInterval,
//    `x.on(...)`/`x.setTimeout(...)`/`x.setInterval(...)` (socket handlers), or as the callback
//    of forEach/map/filter/reduce/... Anything else is an error, never silent misbehaviour.
// 4. Rewrite with magic-string: coloured functions get `async`, awaited calls become
//    `(await CALL)` (so chains like `http.get(u).json()` keep working), array calls with a
//    coloured callback become `(await __herd_rt.seq.map(arr, cb))`, free globals become reads of
//    the per-VU scope object `__herd_g`, and `open(p)` gets the caller's directory as 3rd argument.

import { parse } from 'acorn';
import MagicString from 'magic-string';
import { dirname } from 'node:path';
import type { SourceMapPayload } from 'node:module';
import { HerdError } from '../errors/index.js';
import { BLOCKING_CALLS, SEQUENTIAL_ARRAY_METHODS, blockingLabel } from './blocking-calls.js';
import { type AstNode, type Binding, type Scope, buildScopes, childNodes, isFunctionNode } from './scope.js';
import { type UserPosition, formatPosition } from './source-position.js';

/** What the transform needs besides the bundle text. */
export interface TransformOptions {
  /** Maps a bundle offset to the user's file position (esbuild's source map). */
  locate(offset: number): UserPosition | undefined;
  /** Free names that stay global lookups (the sandbox's standard built-ins). */
  builtinGlobals: ReadonlySet<string>;
  /** Blocking APIs by module; defaults to BLOCKING_CALLS. */
  blocking?: Readonly<Record<string, readonly string[]>>;
}

/** The transformed bundle with its source map (transformed → bundle) and the free globals it reads. */
export interface TransformResult {
  code: string;
  map: SourceMapPayload;
  /** Names read through the per-VU scope object (`__ENV`, `__VU`, `open`, `console`, ...). */
  freeGlobals: string[];
}

/** Prefix reserved for names the loader adds; user code may not use it. */
export const RESERVED_PREFIX = '__herd_';

/** Names the wrapper binds (esbuild's CommonJS output refers to them). */
const WRAPPER_NAMES = new Set(['require', 'module', 'exports', 'arguments']);

type FnKind = 'program' | 'function' | 'method' | 'constructor' | 'getter' | 'setter' | 'initializer';

interface Reason {
  label: string;
  pos: number;
}

interface FnInfo {
  node: AstNode;
  kind: FnKind;
  name: string;
  nativeAsync: boolean;
  generator: boolean;
  asyncAt: number;
  coloured: boolean;
  reason?: Reason;
}

type Callee =
  | { kind: 'blocking'; label: string }
  | { kind: 'k6' }
  | { kind: 'fns'; expr: AstNode }
  | { kind: 'method'; name: string }
  | { kind: 'array'; name: string; base: AstNode }
  | { kind: 'global'; name: string }
  | { kind: 'unknown'; name?: string; base?: AstNode };

interface CallSite {
  node: AstNode;
  fn: FnInfo;
  inParams: boolean;
  parentIsAwait: boolean;
  callee: Callee;
  awaited: boolean;
  viaArrayHelper: boolean;
}

interface Occurrence {
  node: AstNode;
  /** Ancestors, nearest first. */
  anc: AstNode[];
  inExport: boolean;
  scope: Scope;
}

interface IdRef {
  node: AstNode;
  name: string;
  shorthand: boolean;
  callee: boolean;
  typeofNode?: AstNode;
}

interface Problem {
  pos: number;
  message: string;
  hint: string;
}

/** Rewrites the bundle so synchronous-style k6 code awaits its blocking calls (see file comment). */
export function transformBundle(code: string, opts: TransformOptions): TransformResult {
  const blocking = opts.blocking ?? BLOCKING_CALLS;
  const program = parse(code, { ecmaVersion: 'latest', sourceType: 'module' }) as unknown as AstNode;
  const scopes = buildScopes(program);
  const rootScope = scopes.get(program) as Scope;
  const where = (pos: number): string => {
    const p = opts.locate(pos);
    return p === undefined ? `bundle offset ${pos}` : formatPosition(p);
  };

  const fnInfos = new Map<AstNode, FnInfo>();
  const callSites: CallSite[] = [];
  const siteByNode = new Map<AstNode, CallSite>();
  const occurrences: Occurrence[] = [];
  const freeRefs: IdRef[] = [];
  const openCalls: AstNode[] = [];
  const methodSources = new Map<string, AstNode[]>();
  const bindingsWithSources = new Set<Binding>();
  const problems: Problem[] = [];
  const stack: AstNode[] = [];
  // Identifier (in reference position) → its declaration, or undefined when free.
  const idBinding = new Map<AstNode, Binding | undefined>();
  let exportDepth = 0;

  const programInfo: FnInfo = {
    node: program, kind: 'program', name: 'the module', nativeAsync: true, generator: false, asyncAt: 0, coloured: false,
  };

  const reserved = (id: AstNode): void => {
    if (typeof id.name === 'string' && id.name.startsWith(RESERVED_PREFIX)) {
      problems.push({
        pos: id.start,
        message: `the name ${id.name} at ${where(id.start)} uses the prefix ${RESERVED_PREFIX}, which herd reserves`,
        hint: `Rename it to something that does not start with ${RESERVED_PREFIX}.`,
      });
    }
  };
  const addMethodSource = (name: string | undefined, value: AstNode): void => {
    if (name === undefined) return;
    let list = methodSources.get(name);
    if (list === undefined) methodSources.set(name, (list = []));
    list.push(value);
  };
  const addBindingSource = (b: Binding | undefined, value: AstNode): void => {
    if (b === undefined) return;
    b.fnSources.push(value);
    bindingsWithSources.add(b);
  };
  const ancestors = (): AstNode[] => stack.slice(Math.max(0, stack.length - 6), stack.length - 1).reverse();

  const reference = (id: AstNode, scope: Scope, extra: { shorthand?: boolean } = {}): void => {
    reserved(id);
    const name = id.name as string;
    const binding = scope.lookup(name);
    idBinding.set(id, binding);
    const anc = ancestors();
    const parent = anc[0];
    let callee = false;
    if (parent !== undefined && (parent.type === 'CallExpression' || parent.type === 'NewExpression') && parent.callee === id) callee = true;
    if (binding === undefined) {
      if (WRAPPER_NAMES.has(name) || opts.builtinGlobals.has(name)) return;
      const ref: IdRef = { node: id, name, shorthand: extra.shorthand === true, callee };
      if (parent?.type === 'UnaryExpression' && parent.operator === 'typeof') ref.typeofNode = parent;
      freeRefs.push(ref);
      if (callee && name === 'open' && parent?.type === 'CallExpression') openCalls.push(parent);
      return;
    }
    if (!(callee && parent?.type === 'CallExpression')) occurrences.push({ node: id, anc, inExport: exportDepth > 0, scope });
  };

  const visitPattern = (p: AstNode | null | undefined, decl: boolean, scope: Scope, fn: FnInfo, inParams: boolean): void => {
    if (p == null) return;
    stack.push(p);
    switch (p.type) {
      case 'Identifier':
        if (decl) reserved(p);
        else reference(p, scope);
        break;
      case 'ObjectPattern':
        for (const prop of p.properties as AstNode[]) {
          if (prop.type === 'RestElement') {
            visitPattern(prop.argument, decl, scope, fn, inParams);
            continue;
          }
          stack.push(prop);
          if (prop.computed) visit(prop.key, scope, fn, inParams);
          if (!decl && prop.shorthand && prop.value.type === 'Identifier') {
            stack.push(prop.value);
            reference(prop.value, scope, { shorthand: true });
            stack.pop();
          } else if (!decl && prop.shorthand && prop.value.type === 'AssignmentPattern') {
            stack.push(prop.value);
            stack.push(prop.value.left);
            reference(prop.value.left, scope, { shorthand: true });
            stack.pop();
            visit(prop.value.right, scope, fn, inParams);
            stack.pop();
          } else visitPattern(prop.value, decl, scope, fn, inParams);
          stack.pop();
        }
        break;
      case 'ArrayPattern':
        for (const el of p.elements as (AstNode | null)[]) visitPattern(el, decl, scope, fn, inParams);
        break;
      case 'AssignmentPattern':
        visitPattern(p.left, decl, scope, fn, inParams);
        visit(p.right, scope, fn, inParams);
        break;
      case 'RestElement':
        visitPattern(p.argument, decl, scope, fn, inParams);
        break;
      default:
        stack.pop();
        visit(p, scope, fn, inParams);
        return;
    }
    stack.pop();
  };

  const enterFunction = (node: AstNode, scope: Scope): void => {
    const parent = stack[stack.length - 2];
    const fscope = scopes.get(node) as Scope;
    let kind: FnKind = 'function';
    let name = node.id?.name as string | undefined;
    let asyncAt = node.start as number;
    if (parent?.type === 'MethodDefinition' && parent.value === node) {
      kind = parent.kind === 'constructor' ? 'constructor' : parent.kind === 'get' ? 'getter' : parent.kind === 'set' ? 'setter' : 'method';
      name = kind === 'constructor' ? `constructor of class ${className(stack) ?? '(anonymous)'}` : staticName(parent);
      asyncAt = keyStart(code, parent);
      if (kind === 'method') addMethodSource(staticName(parent), node);
    } else if (parent?.type === 'Property' && parent.value === node) {
      name ??= staticName(parent);
      if (parent.kind === 'get' || parent.kind === 'set') {
        kind = parent.kind === 'get' ? 'getter' : 'setter';
        asyncAt = keyStart(code, parent);
      } else if (parent.method) asyncAt = keyStart(code, parent);
    } else if (parent?.type === 'PropertyDefinition' && parent.value === node) {
      name ??= staticName(parent);
    } else if (parent?.type === 'VariableDeclarator' && parent.init === node && parent.id.type === 'Identifier') {
      name ??= parent.id.name as string;
    } else if (parent?.type === 'AssignmentExpression' && parent.right === node) {
      name ??= parent.left.type === 'Identifier' ? (parent.left.name as string) : staticName(parent.left);
    }
    if (name !== undefined && /_default\d*$/.test(name) && node.type === 'FunctionDeclaration') name = 'default';
    const info: FnInfo = {
      node,
      kind,
      name: name ?? 'anonymous function',
      nativeAsync: node.async === true,
      generator: node.generator === true,
      asyncAt,
      coloured: false,
    };
    fnInfos.set(node, info);
    if (node.id) {
      reserved(node.id);
      const b = node.type === 'FunctionDeclaration' ? scope.lookup(node.id.name) : fscope.lookup(node.id.name);
      addBindingSource(b, node);
    }
    if (node.type !== 'FunctionDeclaration' && parent?.type !== 'MethodDefinition') {
      occurrences.push({ node, anc: ancestors(), inExport: exportDepth > 0, scope });
    }
    for (const p of node.params as AstNode[]) visitPattern(p, true, fscope, info, true);
    if (node.body.type === 'BlockStatement') {
      stack.push(node.body);
      for (const s of node.body.body as AstNode[]) visit(s, fscope, info, false);
      stack.pop();
    } else visit(node.body, fscope, info, false);
  };

  const initializer = (owner: AstNode, name: string): FnInfo => ({
    node: owner, kind: 'initializer', name, nativeAsync: false, generator: false, asyncAt: owner.start, coloured: false,
  });

  function visit(node: AstNode | null | undefined, scope: Scope, fn: FnInfo, inParams: boolean): void {
    if (node == null) return;
    stack.push(node);
    try {
      visitInner(node, scope, fn, inParams);
    } finally {
      stack.pop();
    }
  }

  function visitInner(node: AstNode, scope: Scope, fn: FnInfo, inParams: boolean): void {
    const own = scopes.get(node);
    switch (node.type) {
      case 'Identifier':
        reference(node, scope);
        return;
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        enterFunction(node, scope);
        return;
      case 'ClassDeclaration':
      case 'ClassExpression': {
        if (node.id) reserved(node.id);
        const cs = own ?? scope;
        visit(node.superClass, cs, fn, inParams);
        visit(node.body, cs, fn, inParams);
        return;
      }
      case 'MethodDefinition':
        if (node.computed) visit(node.key, scope, fn, inParams);
        visit(node.value, scope, fn, inParams);
        return;
      case 'PropertyDefinition':
        if (node.computed) visit(node.key, scope, fn, inParams);
        if (node.value != null) {
          if (isFunctionNode(node.value)) {
            addMethodSource(staticName(node), node.value);
            visit(node.value, scope, fn, inParams);
          } else {
            const init = initializer(node, `field initializer ${staticName(node) ?? ''}`.trim());
            fnInfos.set(node, init);
            visit(node.value, scope, init, false);
          }
        }
        return;
      case 'StaticBlock': {
        const init = initializer(node, 'static initialization block');
        fnInfos.set(node, init);
        for (const s of node.body as AstNode[]) visit(s, own ?? scope, init, false);
        return;
      }
      case 'Property': {
        if (node.computed) visit(node.key, scope, fn, inParams);
        const parent = stack[stack.length - 2];
        if (parent?.type === 'ObjectExpression' && node.kind === 'init') addMethodSource(staticName(node), node.value);
        if (node.shorthand && node.value.type === 'Identifier') {
          stack.push(node.value);
          reference(node.value, scope, { shorthand: true });
          stack.pop();
        } else visit(node.value, scope, fn, inParams);
        return;
      }
      case 'MemberExpression':
        visit(node.object, scope, fn, inParams);
        if (node.computed) visit(node.property, scope, fn, inParams);
        return;
      case 'LabeledStatement':
        visit(node.body, scope, fn, inParams);
        return;
      case 'BreakStatement':
      case 'ContinueStatement':
      case 'MetaProperty':
        return;
      case 'VariableDeclarator': {
        visitPattern(node.id, true, scope, fn, inParams);
        visit(node.init, scope, fn, inParams);
        if (node.id.type === 'Identifier' && node.init != null) {
          const b = scope.lookup(node.id.name);
          addBindingSource(b, node.init);
          const mod = requiredModule(node.init);
          if (b !== undefined && mod !== undefined) b.module = mod;
        }
        return;
      }
      case 'AssignmentExpression':
        if (node.left.type === 'ObjectPattern' || node.left.type === 'ArrayPattern') visitPattern(node.left, false, scope, fn, inParams);
        else visit(node.left, scope, fn, inParams);
        visit(node.right, scope, fn, inParams);
        if (node.operator === '=') {
          if (node.left.type === 'Identifier') addBindingSource(scope.lookup(node.left.name), node.right);
          else if (node.left.type === 'MemberExpression') addMethodSource(staticName(node.left), node.right);
        }
        return;
      case 'CatchClause': {
        const cs = own ?? scope;
        visitPattern(node.param, true, cs, fn, inParams);
        visit(node.body, cs, fn, inParams);
        return;
      }
      case 'ForInStatement':
      case 'ForOfStatement': {
        const fs = own ?? scope;
        if (node.left.type === 'VariableDeclaration') visit(node.left, fs, fn, inParams);
        else visitPattern(node.left, false, fs, fn, inParams);
        visit(node.right, fs, fn, inParams);
        visit(node.body, fs, fn, inParams);
        return;
      }
      case 'CallExpression': {
        const parent = stack[stack.length - 2];
        const site: CallSite = {
          node, fn, inParams, parentIsAwait: parent?.type === 'AwaitExpression', callee: { kind: 'unknown' }, awaited: false, viaArrayHelper: false,
        };
        callSites.push(site);
        siteByNode.set(node, site);
        const isExport = node.callee.type === 'Identifier' && node.callee.name === '__export' && rootScope.lookup('__export') !== undefined;
        visit(node.callee, scope, fn, inParams);
        if (isExport) exportDepth++;
        for (const a of node.arguments as AstNode[]) visit(a, scope, fn, inParams);
        if (isExport) exportDepth--;
        return;
      }
      default:
        break;
    }
    const inner = own ?? scope;
    for (const c of childNodes(node)) visit(c, inner, fn, inParams);
  }

  for (const s of program.body as AstNode[]) visit(s, rootScope, programInfo, false);

  // Which functions each name and each method name may hold, through aliases, to a fixpoint.
  const fnsOf = (e: AstNode | null | undefined): ReadonlySet<AstNode> => {
    if (e == null) return EMPTY;
    if (isFunctionNode(e)) return new Set([e]);
    if (e.type === 'Identifier') return idBinding.get(e)?.fns ?? EMPTY;
    if (e.type === 'SequenceExpression') return fnsOf(e.expressions[e.expressions.length - 1]);
    if (e.type === 'ChainExpression') return fnsOf(e.expression);
    return EMPTY;
  };
  const methodFns = new Map<string, Set<AstNode>>();
  let changed = true;
  while (changed) {
    changed = false;
    for (const b of bindingsWithSources) {
      for (const src of b.fnSources) {
        for (const f of fnsOf(src)) {
          if (!b.fns.has(f)) {
            b.fns.add(f);
            changed = true;
          }
        }
      }
    }
    for (const [name, srcs] of methodSources) {
      let set = methodFns.get(name);
      if (set === undefined) methodFns.set(name, (set = new Set()));
      for (const src of srcs) {
        for (const f of fnsOf(src)) {
          if (!set.has(f)) {
            set.add(f);
            changed = true;
          }
        }
      }
    }
  }

  // Classify each callee once.
  for (const cs of callSites) cs.callee = classifyCallee(cs.node, blocking, (id) => idBinding.get(id), fnsOf);

  const needsAwait = (f: AstNode): FnInfo | undefined => {
    const i = fnInfos.get(f);
    return i !== undefined && i.coloured && !i.nativeAsync ? i : undefined;
  };
  const firstColoured = (fns: Iterable<AstNode> | undefined): FnInfo | undefined => {
    if (fns === undefined) return undefined;
    for (const f of fns) {
      const i = needsAwait(f);
      if (i !== undefined) return i;
    }
    return undefined;
  };
  const siteReason = (cs: CallSite): { reason: Reason; array: boolean } | undefined => {
    const c = cs.callee;
    switch (c.kind) {
      case 'blocking':
        return { reason: { label: c.label, pos: cs.node.start }, array: false };
      case 'fns': {
        const i = firstColoured(fnsOf(c.expr));
        return i?.reason ? { reason: i.reason, array: false } : undefined;
      }
      case 'method': {
        const i = firstColoured(methodFns.get(c.name));
        return i?.reason ? { reason: i.reason, array: false } : undefined;
      }
      case 'array': {
        const cb = firstColoured(fnsOf(cs.node.arguments[0]));
        if (cb?.reason) return { reason: cb.reason, array: true };
        const i = firstColoured(methodFns.get(c.name));
        return i?.reason ? { reason: i.reason, array: false } : undefined;
      }
      default:
        return undefined;
    }
  };

  // Colouring to a fixpoint.
  changed = true;
  while (changed) {
    changed = false;
    for (const cs of callSites) {
      if (cs.awaited) continue;
      const r = siteReason(cs);
      if (r === undefined) continue;
      cs.awaited = true;
      cs.viaArrayHelper = r.array;
      if (!cs.fn.coloured) {
        cs.fn.coloured = true;
        cs.fn.reason = r.reason;
        changed = true;
      }
    }
  }

  // Faithfulness checks.
  const reasonText = (r: Reason | undefined): string => (r === undefined ? 'blocking calls' : `${r.label} at ${where(r.pos)}`);
  for (const info of fnInfos.values()) {
    if (!info.coloured || info.nativeAsync) continue;
    const made = `makes blocking calls (${reasonText(info.reason)})`;
    const at = where(info.node.start);
    if (info.kind === 'constructor') {
      problems.push({ pos: info.node.start, message: `the ${info.name} at ${at} ${made}, but a constructor cannot wait for them`, hint: 'Move the blocking calls into a method or a static factory function and call it after `new`.' });
    } else if (info.kind === 'getter' || info.kind === 'setter') {
      problems.push({ pos: info.node.start, message: `the ${info.kind} ${info.name} at ${at} ${made}, but a ${info.kind} cannot wait for them`, hint: `Turn the ${info.kind} into an ordinary method and call it.` });
    } else if (info.kind === 'initializer') {
      problems.push({ pos: info.node.start, message: `the class ${info.name} at ${at} ${made}, but an initializer cannot wait for them`, hint: 'Assign the value in a method instead.' });
    } else if (info.generator) {
      problems.push({ pos: info.node.start, message: `the generator function ${info.name} at ${at} ${made}, but a generator cannot wait for them`, hint: 'Make the blocking calls outside the generator and pass it the results.' });
    }
  }
  for (const cs of callSites) {
    if (cs.awaited && cs.inParams) {
      problems.push({ pos: cs.node.start, message: `a default parameter value of ${cs.fn.name} at ${where(cs.node.start)} makes a blocking call (${reasonText(siteReason(cs)?.reason)})`, hint: 'Make the call in the function body instead of in the parameter list.' });
    }
  }
  for (const occ of occurrences) {
    if (occ.inExport) continue;
    const info = isFunctionNode(occ.node) ? needsAwait(occ.node) : firstColoured(fnsOf(occ.node));
    if (info === undefined) continue;
    const use = classifyUse(occ, siteByNode);
    if (use.kind === 'ok') continue;
    const fname = info.name === 'anonymous function' ? 'an anonymous function' : `function ${info.name}`;
    const made = `${fname} makes blocking calls (${reasonText(info.reason)})`;
    if (use.kind === 'cannot') {
      problems.push({ pos: occ.node.start, message: `${made} but is a callback of ${use.what} at ${where(occ.node.start)}, which cannot wait for it`, hint: `Make the blocking calls before or after ${use.what} and give it plain values.` });
    } else {
      problems.push({ pos: occ.node.start, message: `${made} but is passed as a value at ${where(occ.node.start)}; herd cannot tell when it runs`, hint: 'Call the function directly, or pass it only to group(), check(), setTimeout(), socket handlers or array methods (forEach, map, reduce, ...); or write it as an async function and await its result yourself.' });
    }
  }
  if (problems.length > 0) {
    problems.sort((a, b) => a.pos - b.pos);
    const first = problems[0] as Problem;
    throw new HerdError('script_unsupported', problems.map((p) => p.message).join('\n'), { hint: first.hint });
  }

  // Rewrite.
  const ms = new MagicString(code);
  const awaited = callSites.filter((c) => c.awaited).sort((a, b) => a.node.start - b.node.start || b.node.end - a.node.end);
  for (const cs of awaited) {
    const n = cs.node;
    if (cs.viaArrayHelper && cs.callee.kind === 'array') {
      const first = n.arguments[0] as AstNode;
      ms.appendLeft(n.start, `(await ${RESERVED_PREFIX}rt.seq.${cs.callee.name}(`);
      ms.update(cs.callee.base.end, first.start, ', ');
      ms.appendLeft(n.end, ')');
    } else if (!cs.parentIsAwait) {
      ms.appendLeft(n.start, '(await ');
      ms.appendLeft(n.end, ')');
    }
  }
  for (const info of fnInfos.values()) {
    if (info.coloured && !info.nativeAsync && isFunctionNode(info.node)) ms.appendLeft(info.asyncAt, 'async ');
  }
  const freeGlobals = new Set<string>();
  for (const ref of freeRefs) {
    freeGlobals.add(ref.name);
    const g = `${RESERVED_PREFIX}g.${ref.name}`;
    if (ref.typeofNode !== undefined) ms.update(ref.typeofNode.start, ref.typeofNode.end, `${RESERVED_PREFIX}rt.typeOf(${RESERVED_PREFIX}g, ${JSON.stringify(ref.name)})`);
    else if (ref.shorthand) ms.update(ref.node.start, ref.node.end, `${ref.name}: ${g}`);
    else if (ref.callee) ms.update(ref.node.start, ref.node.end, `(0, ${g})`);
    else ms.update(ref.node.start, ref.node.end, g);
  }
  for (const call of openCalls) {
    const args = call.arguments as AstNode[];
    const last = args[args.length - 1];
    if (last === undefined || args.length > 2 || last.type === 'SpreadElement') continue;
    const p = opts.locate(call.start);
    if (p === undefined) continue;
    const base = /^https?:\/\//.test(p.file) ? new URL('.', p.file).href : dirname(p.file);
    ms.appendLeft(last.end, `${args.length === 1 ? ', undefined' : ''}, ${JSON.stringify(base)}`);
  }
  return {
    code: ms.toString(),
    map: ms.generateMap({ hires: true, source: 'bundle.js', includeContent: false }) as unknown as SourceMapPayload,
    freeGlobals: [...freeGlobals].sort(),
  };
}

const EMPTY: ReadonlySet<AstNode> = new Set();

/** `(0, x.y)` and `a?.b` → the expression that is really called. */
function unwrapCallee(c: AstNode): AstNode {
  let e = c;
  for (;;) {
    if (e.type === 'SequenceExpression') e = e.expressions[e.expressions.length - 1];
    else if (e.type === 'ChainExpression') e = e.expression;
    else return e;
  }
}

/** The static name of a property key (`a`, `'a'`, `[\`a\`]` is not static). */
function staticName(n: AstNode | undefined): string | undefined {
  if (n == null) return undefined;
  const key: AstNode | undefined = n.type === 'MemberExpression' ? n.property : n.key;
  if (key == null) return undefined;
  if (!n.computed && key.type === 'Identifier') return key.name as string;
  if (!n.computed && key.type === 'PrivateIdentifier') return `#${key.name as string}`;
  if (key.type === 'Literal' && (typeof key.value === 'string' || typeof key.value === 'number')) return String(key.value);
  return undefined;
}

/** Where `async` goes for a method: before its key (or the `[` of a computed key). */
function keyStart(code: string, member: AstNode): number {
  const key = member.key as AstNode;
  if (!member.computed) return key.start;
  let i = key.start - 1;
  while (i > 0 && code[i] !== '[') i--;
  return i;
}

function className(stack: readonly AstNode[]): string | undefined {
  for (let i = stack.length - 1; i >= 0; i--) {
    const n = stack[i];
    if (n !== undefined && (n.type === 'ClassDeclaration' || n.type === 'ClassExpression')) {
      if (n.id) return n.id.name as string;
      // esbuild turns `class A {}` into `var A = class {}`.
      const p = stack[i - 1];
      return p?.type === 'VariableDeclarator' && p.id.type === 'Identifier' ? (p.id.name as string) : undefined;
    }
  }
  return undefined;
}

/** The module of `require("m")` or `__toESM(require("m"))`, as esbuild emits for externals. */
function requiredModule(init: AstNode): string | undefined {
  let call = init;
  if (call.type === 'CallExpression' && call.callee.type === 'Identifier' && call.callee.name !== 'require') call = call.arguments[0];
  if (call?.type === 'CallExpression' && call.callee.type === 'Identifier' && call.callee.name === 'require') {
    const a = call.arguments[0];
    if (a?.type === 'Literal' && typeof a.value === 'string') return a.value;
  }
  return undefined;
}

function classifyCallee(
  call: AstNode,
  blocking: Readonly<Record<string, readonly string[]>>,
  binding: (id: AstNode) => Binding | undefined,
  fnsOf: (e: AstNode) => ReadonlySet<AstNode>,
): Callee {
  const c = unwrapCallee(call.callee);
  if (c.type === 'Identifier') {
    const b = binding(c);
    if (b === undefined) return { kind: 'global', name: c.name as string };
    return { kind: 'fns', expr: c };
  }
  if (isFunctionNode(c)) return { kind: 'fns', expr: c };
  if (c.type !== 'MemberExpression') return { kind: 'unknown' };
  const name = staticName(c);
  if (name === undefined) return { kind: 'unknown' };
  const obj = c.object as AstNode;
  let mod: string | undefined;
  if (obj.type === 'Identifier') mod = binding(obj)?.module;
  else if (obj.type === 'MemberExpression' && staticName(obj) === 'default' && obj.object.type === 'Identifier') mod = binding(obj.object)?.module;
  if (mod !== undefined) {
    if (blocking[mod]?.includes(name) === true) return { kind: 'blocking', label: blockingLabel(mod, name) };
    if (mod === 'k6' || mod.startsWith('k6/')) return { kind: 'k6' };
    return { kind: 'unknown', name, base: obj };
  }
  if ((name === 'call' || name === 'apply') && fnsOf(obj).size > 0) return { kind: 'fns', expr: obj };
  if (SEQUENTIAL_ARRAY_METHODS.has(name) && c === call.callee && !c.optional && !c.computed && call.optional !== true && call.arguments.length > 0 && call.arguments[0].type !== 'SpreadElement' && obj.type !== 'Super') {
    return { kind: 'array', name, base: obj };
  }
  return { kind: 'method', name };
}

type Use = { kind: 'ok' } | { kind: 'cannot'; what: string } | { kind: 'escape' };
const OK: Use = { kind: 'ok' };
const ESCAPE: Use = { kind: 'escape' };
const HANDLER_METHODS = new Set(['on', 'setTimeout', 'setInterval']);
const TIMER_GLOBALS = new Set(['setTimeout', 'setInterval']);

/** How a coloured function is used where it appears as a value (the escape rule in the file comment). */
function classifyUse(occ: Occurrence, sites: ReadonlyMap<AstNode, CallSite>): Use {
  let child = occ.node;
  let i = 0;
  let p = occ.anc[0];
  while (p !== undefined && ((p.type === 'SequenceExpression' && p.expressions[p.expressions.length - 1] === child) || p.type === 'ChainExpression')) {
    child = p;
    p = occ.anc[++i];
  }
  if (p === undefined) return ESCAPE;
  const g = occ.anc[i + 1];
  switch (p.type) {
    case 'CallExpression': {
      if (p.callee === child) return OK;
      const index = (p.arguments as AstNode[]).indexOf(child);
      const site = sites.get(p);
      const c = site?.callee;
      if (c === undefined) return ESCAPE;
      if (c.kind === 'blocking' || c.kind === 'k6') return OK;
      if (c.kind === 'global') return TIMER_GLOBALS.has(c.name) ? OK : ESCAPE;
      if (c.kind === 'array') return index === 0 ? OK : ESCAPE;
      const callee = unwrapCallee(p.callee);
      const name = callee.type === 'MemberExpression' ? staticName(callee) : undefined;
      if (name !== undefined && HANDLER_METHODS.has(name)) return OK;
      if (name === 'sort' || name === 'toSorted') return { kind: 'cannot', what: `${name}()` };
      if (name === 'replace' || name === 'replaceAll') return { kind: 'cannot', what: `${name}()` };
      if (callee.type === 'MemberExpression' && callee.object.type === 'Identifier') {
        const base = callee.object.name as string;
        if (base === 'Array' && name === 'from') return { kind: 'cannot', what: 'Array.from()' };
        if (base === 'JSON' && (name === 'parse' || name === 'stringify')) return { kind: 'cannot', what: `JSON.${name}()` };
      }
      return ESCAPE;
    }
    case 'NewExpression':
      if (p.callee === child) return { kind: 'cannot', what: '`new`' };
      if (p.callee.type === 'Identifier' && p.callee.name === 'Promise') return { kind: 'cannot', what: 'new Promise()' };
      return ESCAPE;
    case 'MemberExpression': {
      if (p.object !== child) return ESCAPE;
      const name = staticName(p);
      if ((name === 'call' || name === 'apply') && g?.type === 'CallExpression' && g.callee === p) return OK;
      return name === 'bind' ? ESCAPE : OK;
    }
    case 'VariableDeclarator':
      return p.id.type === 'Identifier' ? OK : ESCAPE;
    case 'AssignmentExpression':
      if (p.right !== child) return OK;
      if (p.operator !== '=') return ESCAPE;
      if (p.left.type === 'Identifier') return OK;
      return p.left.type === 'MemberExpression' && staticName(p.left) !== undefined ? OK : ESCAPE;
    case 'Property':
      if (p.value !== child) return OK;
      return g?.type === 'ObjectExpression' && staticName(p) !== undefined ? OK : ESCAPE;
    case 'PropertyDefinition':
    case 'MethodDefinition':
    case 'ExpressionStatement':
    case 'UnaryExpression':
    case 'BinaryExpression':
      return OK;
    default:
      return ESCAPE;
  }
}
