/** The kit's own checks of lab 7 (the standard ones: solution, skeleton, replay; the mutants and correct variants are in mutants.full.test.ts). */
import { describeLabKit } from '../../kit';
import { kitOptions } from './kit-options';

describeLabKit(kitOptions);
