// A load test's script sent as plain JavaScript (the v6 API takes "JS text or a k6 .tar,
// auto-detected", K6-CLOUD-API.md §5.4) made into a k6 archive. k6 learns a script's options
// by running its init code; herd never runs user code in the control plane, so it reads
// `export const options = …` only when the value is written out literally (objects, arrays,
// strings, numbers, booleans, null). Anything computed is refused, pointing at `k6 archive`,
// which runs the init code on the user's machine. One file only: imports of local files and
// open() need the files an archive carries.
import { parse } from 'acorn';
import type { Expression, ModuleDeclaration, Node, Program, Statement } from 'acorn';
import { HerdError } from '../../errors/index.js';
import { writeK6Archive } from './k6-archive.js';

const ARCHIVE_HINT = 'run `k6 archive script.js` and upload archive.tar instead: k6 then works the options out on your machine';

/** Where the script is put in the archive it becomes. */
const SCRIPT_PATH = '/script.js';

/**
 * The k6 archive of one JavaScript file, with the options it exports literally (none: `{}`).
 * Throws HerdError `script_syntax` when the text does not parse as a module, and
 * `script_unsupported` when its options are computed.
 */
export function k6ArchiveOfScript(text: string): Uint8Array {
  let program: Program;
  try {
    program = parse(text, { ecmaVersion: 'latest', sourceType: 'module', locations: true });
  } catch (e) {
    throw new HerdError('script_syntax', `the script does not parse as a JavaScript module: ${e instanceof Error ? e.message : String(e)}`);
  }
  const options = exportedOptions(program);
  return writeK6Archive({ entry: SCRIPT_PATH, script: new TextEncoder().encode(text), pwd: '/', options, env: {}, files: new Map() });
}

/** The literal value of the module's `options` export; `{}` when it exports none. */
function exportedOptions(program: Program): Record<string, unknown> {
  const local = localNameOfOptions(program.body);
  if (local === undefined) return {};
  const init = topLevelInit(program.body, local);
  if (init === undefined) throw computed(`"options" is exported but not declared as a top-level variable with a value`);
  const value = literalValue(init, 'options');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw computed('"options" must be an object');
  return value as Record<string, unknown>;
}

function localNameOfOptions(body: ReadonlyArray<Statement | ModuleDeclaration>): string | undefined {
  for (const node of body) {
    if (node.type !== 'ExportNamedDeclaration') continue;
    if (node.declaration?.type === 'VariableDeclaration') {
      for (const d of node.declaration.declarations) if (d.id.type === 'Identifier' && d.id.name === 'options') return 'options';
    }
    if (node.declaration?.type === 'FunctionDeclaration' && node.declaration.id.name === 'options') throw computed('"options" is a function');
    for (const s of node.specifiers) {
      const exported = s.exported.type === 'Identifier' ? s.exported.name : String(s.exported.value);
      if (exported !== 'options') continue;
      if (node.source != null) throw computed('"options" is re-exported from another module');
      return s.local.type === 'Identifier' ? s.local.name : String(s.local.value);
    }
  }
  return undefined;
}

function topLevelInit(body: ReadonlyArray<Statement | ModuleDeclaration>, name: string): Expression | undefined {
  for (const node of body) {
    const decl = node.type === 'VariableDeclaration' ? node : node.type === 'ExportNamedDeclaration' && node.declaration?.type === 'VariableDeclaration' ? node.declaration : undefined;
    for (const d of decl?.declarations ?? []) {
      if (d.id.type === 'Identifier' && d.id.name === name) return d.init ?? undefined;
    }
  }
  return undefined;
}

/** The value of an expression made only of literals; throws naming the path of the first part that is not. */
function literalValue(node: Expression | Node, path: string): unknown {
  switch (node.type) {
    case 'Literal': {
      const lit = node as Extract<Expression, { type: 'Literal' }>;
      if (lit.regex !== undefined || typeof lit.value === 'bigint') break;
      return lit.value;
    }
    case 'TemplateLiteral': {
      const t = node as Extract<Expression, { type: 'TemplateLiteral' }>;
      if (t.expressions.length === 0 && t.quasis[0]?.value.cooked != null) return t.quasis[0].value.cooked;
      break;
    }
    case 'UnaryExpression': {
      const u = node as Extract<Expression, { type: 'UnaryExpression' }>;
      const v = u.operator === '-' || u.operator === '+' ? literalValue(u.argument, path) : undefined;
      if (typeof v === 'number') return u.operator === '-' ? -v : v;
      break;
    }
    case 'ArrayExpression': {
      const a = node as Extract<Expression, { type: 'ArrayExpression' }>;
      return a.elements.map((e, i) => {
        if (e === null || e.type === 'SpreadElement') throw computed(`${path}[${i}] is not written out`);
        return literalValue(e, `${path}[${i}]`);
      });
    }
    case 'ObjectExpression': {
      const o = node as Extract<Expression, { type: 'ObjectExpression' }>;
      const out: Record<string, unknown> = {};
      for (const p of o.properties) {
        if (p.type === 'SpreadElement') throw computed(`${path} spreads another object`);
        const key = p.key.type === 'Identifier' && !p.computed ? p.key.name : p.key.type === 'Literal' && (typeof p.key.value === 'string' || typeof p.key.value === 'number') ? String(p.key.value) : undefined;
        if (key === undefined || p.kind !== 'init' || p.method) throw computed(`${path} has a computed key or a method`);
        out[key] = literalValue(p.value, `${path}.${key}`);
      }
      return out;
    }
    default:
      break;
  }
  throw computed(`${path} is computed (${node.type}) at line ${node.loc?.start.line ?? '?'}`);
}

function computed(what: string): HerdError {
  return new HerdError('script_unsupported', `herd reads a plain script's options only when they are written out literally, but ${what}`, { hint: ARCHIVE_HINT });
}
