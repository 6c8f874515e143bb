// Capturing what this process writes to stderr (the default excepthook writes there).

/** Replaces process.stderr.write until restore(); `text` is what was written meanwhile. */
export function captureStderr() {
  const own = Object.getOwnPropertyDescriptor(process.stderr, 'write');
  let text = '';
  process.stderr.write = (chunk, ...rest) => {
    text += String(chunk);
    const callback = rest.find((arg) => typeof arg === 'function');
    if (callback) callback();
    return true;
  };
  return {
    get text() { return text; },
    restore() {
      if (own === undefined) delete process.stderr.write;
      else Object.defineProperty(process.stderr, 'write', own);
    },
  };
}

/** Runs `fn` (sync or async) with stderr captured; resolves what it wrote. */
export async function stderrOf(fn) {
  const stderr = captureStderr();
  try {
    await fn();
  } finally {
    stderr.restore();
  }
  return stderr.text;
}
