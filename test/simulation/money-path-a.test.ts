import { campaignFile } from './campaign-file.js';

campaignFile('test/simulation/money-path-a.test.ts', 'A', 1301);
