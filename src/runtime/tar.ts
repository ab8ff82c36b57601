/** One file of a tar archive. */
export interface TarFile {
  /** Absolute path in the container; stored without the leading slash. */
  path: string;
  content: string | Buffer;
  mode: number;
  uid?: number;
  gid?: number;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(file: TarFile, size: number): Buffer {
  const block = Buffer.alloc(512);
  let name = file.path.replace(/^\/+/, '');
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    // ustar: split a long path at a slash into prefix (155) and name (100).
    const cut = name.lastIndexOf('/', name.length - 1);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
    if (Buffer.byteLength(prefix) > 155 || Buffer.byteLength(name) > 100) throw new Error(`path too long for a tar header: ${file.path}`);
  }
  block.write(name, 0, 100, 'utf8');
  block.write(octal(file.mode & 0o7777, 8), 100, 8, 'ascii');
  block.write(octal(file.uid ?? 0, 8), 108, 8, 'ascii');
  block.write(octal(file.gid ?? 0, 8), 116, 8, 'ascii');
  block.write(octal(size, 12), 124, 12, 'ascii');
  block.write(octal(0, 12), 136, 12, 'ascii');
  block.write('        ', 148, 8, 'ascii'); // checksum placeholder
  block.write('0', 156, 1, 'ascii'); // regular file
  block.write('ustar\0', 257, 6, 'ascii');
  block.write('00', 263, 2, 'ascii');
  block.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + ' ', 148, 8, 'ascii');
  return block;
}

/** A ustar archive of regular files (the engine creates missing parent folders when it extracts). */
export function tarFiles(files: readonly TarFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    const data = Buffer.isBuffer(file.content) ? file.content : Buffer.from(file.content, 'utf8');
    parts.push(header(file, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
