/** History recording for the checkers. */
export { HistoryRecorder, OpHandle, clientLane } from './recorder';
export type { Operation } from '../../checker/types';
