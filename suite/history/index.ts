/** History recording for the checkers. */
export { HistoryRecorder, HistoryKeeps, OpHandle, clientLane } from './recorder';
export type { Operation } from '../../checker/types';
