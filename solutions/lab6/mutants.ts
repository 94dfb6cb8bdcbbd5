/** Deliberately broken versions of the lab 6 reference Raft; the kit's tests check that each one fails a named test. */
import type { Mutant } from '../mutants';

export const mutants: Mutant[] = [];
