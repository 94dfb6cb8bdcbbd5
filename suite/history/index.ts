/** History recording for the checkers. */
export { HistoryRecorder, OpHandle } from './recorder';
export type { Operation } from '../../checker/types';
