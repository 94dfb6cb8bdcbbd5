/** The kit's own checks of lab 2 (the standard ones: solution, skeleton, replay; the mutants are in mutants.full.test.ts). */
import { describeLabKit } from '../../kit';
import { kitOptions } from './kit-options';

describeLabKit(kitOptions);
