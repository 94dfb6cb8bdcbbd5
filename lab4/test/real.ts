import type { NamedTest } from '../../tester/suite';
import type { Lab4Impl } from './harness';
export const realHttpTest: NamedTest<Lab4Impl> = { name: 'TestRealHttp', description: 'x', realTime: true, async run() {} };
