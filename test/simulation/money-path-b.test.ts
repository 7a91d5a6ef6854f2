import { campaignFile } from './campaign-file.js';

campaignFile('test/simulation/money-path-b.test.ts', 'B', 2602);
