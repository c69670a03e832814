import type { Response } from 'express';

/** Bytes gathered before each socket write: big enough to amortise writes, small next to the floats. */
const FLUSH_BYTES = 64 * 1024;

/**
 * Writes a response body piece by piece, waiting for the socket to drain, so a 50,000-vector answer
 * never exists as one giant string. Returns false once the client has gone.
 */
export class ChunkedWriter {
  #pending: string[] = [];
  #pendingLength = 0;

  constructor(private readonly res: Response) {}

  async write(piece: string): Promise<boolean> {
    this.#pending.push(piece);
    this.#pendingLength += piece.length;
    return this.#pendingLength >= FLUSH_BYTES ? this.flush() : !this.res.destroyed;
  }

  async flush(): Promise<boolean> {
    if (this.res.destroyed) return false;
    const data = this.#pending.join('');
    this.#pending = [];
    this.#pendingLength = 0;
    if (!this.res.write(data)) {
      // Both listeners go as soon as either fires: events.once() would leave a 'close' (and an
      // 'error') listener behind per wait, which a long stream piles up.
      await new Promise<void>((resolve) => {
        const done = () => {
          this.res.off('drain', done);
          this.res.off('close', done);
          resolve();
        };
        this.res.on('drain', done);
        this.res.on('close', done);
      });
    }
    return !this.res.destroyed;
  }

  async end(piece = ''): Promise<void> {
    await this.write(piece);
    if (await this.flush()) this.res.end();
  }
}
