/**
 * The kit's own checks of lab 4: the reference solution passes every named test, the untouched skeleton
 * fails every one without crashing, and runs replay exactly (every mutant is caught by a named test: mutants.full.test.ts).
 */
import { describeLabKit } from '../../kit';
import { kitOptions } from './kit-options';

describeLabKit(kitOptions);
