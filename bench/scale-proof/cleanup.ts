/**
 * Undo on every way out: normal exit, an exception, Ctrl-C, SIGTERM, SIGHUP. The proof leaves network namespaces,
 * a bridge, memory cgroups and processes behind otherwise, so each is registered here the moment it exists and
 * removed, newest first, by synchronous code (an 'exit' handler cannot await).
 */

type Undo = { what: string; run: () => void };

const undos: Undo[] = [];
let installed = false;

/** Runs every registered undo once, newest first; errors are reported and do not stop the rest. */
export function cleanupNow(): void {
  while (undos.length > 0) {
    const undo = undos.pop()!;
    try {
      undo.run();
    } catch (error) {
      process.stderr.write(`scale:proof cleanup: ${undo.what} failed: ${(error as Error).message}\n`);
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupNow);
  const signals = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
  for (const [signal, code] of Object.entries(signals)) {
    process.on(signal, () => {
      process.stderr.write(`\nscale:proof: ${signal}, cleaning up\n`);
      cleanupNow();
      process.exit(code);
    });
  }
  const fatal = (error: unknown) => {
    process.stderr.write(`scale:proof failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    cleanupNow();
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}

/** Registers `run` to undo something just created; returns a function that runs it now (once) and unregisters it. */
export function onCleanup(what: string, run: () => void): () => void {
  install();
  const undo: Undo = { what, run };
  undos.push(undo);
  return () => {
    const index = undos.indexOf(undo);
    if (index < 0) return;
    undos.splice(index, 1);
    run();
  };
}
