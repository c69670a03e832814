import type { Manifest } from '../files.js';
import type { WriteTemp } from '../install.js';

/** What a downloading source (hub, maven) is given by the CLI. */
export interface SourceContext {
  /** Files still to obtain, by their name in the target directory. */
  files: string[];
  manifest: Manifest;
  env: NodeJS.ProcessEnv;
  /** Verifies what `write` produced for `file` and puts it in place; rejects when it does not match the manifest. */
  install: (file: string, write: WriteTemp) => Promise<void>;
}
