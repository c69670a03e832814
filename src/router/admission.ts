import type { RequestHandler } from 'express';
import { ApiError } from './errors.js';

/**
 * Refuses new work while the supervisor says memory is over budget at the floor: 503 with
 * Retry-After and a JSON error. Mounted before the body parser, so a refused request costs no
 * memory for its body. Requests already accepted are not affected.
 */
export function refuseUnderMemoryPressure(supervisor: { refusing: boolean; retryAfterSeconds: number } | undefined): RequestHandler {
  return (_req, _res, next) => {
    if (!supervisor?.refusing) return next();
    next(
      new ApiError('memory_pressure', 'memory is over budget; requests already accepted are finishing. Retry later.', {
        retryAfterS: supervisor.retryAfterSeconds,
      }),
    );
  };
}
