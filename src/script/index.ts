// Loading user code: bundling, the synchronous-style → async transform, per-VU instances in a sandbox.
export { loadScript, prepareScript, compileScript, checkScriptSyntax, BUNDLE_FILENAME } from './load-script.js';
export type { LoadOptions, CompiledScript, InstanceHost, ModuleExports, ScriptArtifact } from './load-script.js';
export { BLOCKING_CALLS, SEQUENTIAL_ARRAY_METHODS } from './blocking-calls.js';
export { packArchive, unpackArchive, archiveFileReader, stripSecrets, DEFAULT_ARCHIVE_LIMITS, ARCHIVE_FORMAT_VERSION, type Archive, type ArchiveInput, type ArchiveLimits, type ArchiveMetadata, type ArchiveFileReader } from './archive.js';
