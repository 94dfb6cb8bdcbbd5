/** The kit's long checks of lab 7 (`npm run test:full`): every mutant is caught by a test it names, every correct variant passes. */
import { describeLabKitMutants } from '../../kit';
import { kitOptions } from './kit-options';

describeLabKitMutants(kitOptions);
