/**
 * Layer: lab.
 *
 * The services a lab's supervisor runs, in start order (stopped in reverse). Adding one (the
 * delay queue, the timer of the schedule and of `--for` heals) is its file and a line here.
 */
import { delayService } from './delay-service.js';
import { processService } from './process-service.js';
import type { ServiceFactory } from './service.js';

export const SERVICES: readonly ServiceFactory[] = [delayService, processService];
