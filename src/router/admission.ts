import type { RequestHandler } from 'express';
import { ApiError } from './errors.js';

/** The streamed request body's media type (embed-route.ts). */
const NDJSON_BODY = 'application/x-ndjson';

/** The memory supervisor's verdict on a request, by its body's size (supervisor/headroom.ts, admitRequest). */
export type AdmissionVerdict = { admit: true } | { admit: false; why: 'not-now' | 'never'; needBytes: number; roomBytes: number };

export interface MemoryAdmission {
  /** Memory is over budget at the floor: new work is refused unless it is small enough (admitRequest). */
  refusing: boolean;
  retryAfterSeconds: number;
  /**
   * Admission by cost, from the body bytes the request will hold in memory at once; without it, every request is
   * refused while `refusing`.
   */
  admitRequest?(bodyBytes: number | undefined): AdmissionVerdict;
}

export interface AdmissionOptions {
  /**
   * Body bytes a streamed (application/x-ndjson) body holds at most, whatever its length (ndjson-body.ts,
   * ndjsonHeldBytes): such a request costs its window, not its body.
   */
  streamedBodyBytes?: number;
}

const mb = (bytes: number) => `${Math.ceil(bytes / 2 ** 20)} MB`;

/**
 * Refuses what the memory budget cannot take, before the body is read (so a refused request costs
 * no memory for its body): a body that could never fit above the service's idle footprint gets 507
 * `insufficient_memory` at once, saying what it needs and what to do; while memory is over budget
 * at the floor, a request that needs more than the headroom (or a little, for small requests) gets
 * 503 `memory_pressure` with Retry-After. Requests already accepted are not affected.
 */
export function refuseUnderMemoryPressure(supervisor: MemoryAdmission | undefined, options: AdmissionOptions = {}): RequestHandler {
  return (req, _res, next) => {
    if (!supervisor) return next();
    const length = Number(req.headers['content-length']);
    const streamed = options.streamedBodyBytes !== undefined && Boolean(req.is(NDJSON_BODY));
    const held = streamed ? options.streamedBodyBytes : Number.isFinite(length) ? length : undefined;
    const verdict: AdmissionVerdict = supervisor.admitRequest
      ? supervisor.admitRequest(held)
      : supervisor.refusing
        ? { admit: false, why: 'not-now', needBytes: 0, roomBytes: 0 }
        : { admit: true };
    if (verdict.admit) return next();
    if (verdict.why === 'never') {
      if (streamed) {
        return next(
          new ApiError(
            'insufficient_memory',
            `a streamed request holds up to ${mb(verdict.needBytes)} of memory for its window, and the memory budget leaves ${mb(verdict.roomBytes)} above the ` +
              "service's idle footprint: raise the memory limit (or lower EMBEDDING_MAX_CHUNK_CHARS, which bounds one line)",
          ),
        );
      }
      return next(
        new ApiError(
          'insufficient_memory',
          `this request needs about ${mb(verdict.needBytes)} of memory to parse and embed, and the memory budget leaves ${mb(verdict.roomBytes)} above the ` +
            "service's idle footprint: send it as smaller requests, stream it (Content-Type: application/x-ndjson, one chunk per line), or raise the memory limit",
        ),
      );
    }
    next(
      new ApiError('memory_pressure', 'memory is over budget; requests already accepted are finishing, and small requests are still taken. Retry later.', {
        retryAfterS: supervisor.retryAfterSeconds,
      }),
    );
  };
}
