// snappyjs ships no types; these are the two functions herd uses (snappy *block* format).
declare module 'snappyjs' {
  /** Decompresses a snappy block; throws when the data is not one or would exceed `maxLength` bytes. */
  function uncompress<T extends Uint8Array | ArrayBuffer>(compressed: T, maxLength?: number): T;
  /** Compresses into a snappy block. */
  function compress<T extends Uint8Array | ArrayBuffer>(uncompressed: T): T;
  const snappy: { uncompress: typeof uncompress; compress: typeof compress };
  export default snappy;
}
