/** The consistency checkers: public API. */
export * from './types';
export {
  check,
  checkLinearizable,
  checkSequential,
  validateHistory,
  HistoryError,
  DEFAULT_TIMEOUT_MS,
} from './linearizability';
export { checkOrExplain, explainResult, ExplainOptions, Explained } from './explain';
export { keyedProduct, KeyedState } from './product';
export { replayOrder, Replay } from './replay';
export { renderHistoryHtml, writeHistoryHtml, escapeHtml, ViewerOptions } from './viewer/html';
export * from './models';
export { parseKvHistory, parseEtcdHistory, detectFormat, ParseError, HistoryFormat } from './parse/porcupine';
