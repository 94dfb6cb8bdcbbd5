/** The kit's own checks of lab 1 (the standard ones: rubric, solution, skeleton, replay; the mutants are in mutants.full.test.ts). */
import { describeLabKit } from '../../kit';
import { kitOptions } from './kit-options';

describeLabKit(kitOptions);
