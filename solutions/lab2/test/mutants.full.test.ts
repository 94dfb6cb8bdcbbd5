/** The kit's long checks of lab 2 (`npm run test:full`): every mutant is caught by a test it names. */
import { describeLabKitMutants } from '../../kit';
import { kitOptions } from './kit-options';

describeLabKitMutants(kitOptions);
