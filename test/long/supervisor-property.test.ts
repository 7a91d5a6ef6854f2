// The supervisor property test at 5,000 runs (the default suite runs 200).
process.env.PROPERTY_RUNS = '5000';
await import('../../src/supervisor/supervisor.property.test.js');
