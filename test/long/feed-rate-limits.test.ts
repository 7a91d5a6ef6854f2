// The full ten simulated minutes of the feed rate-limit test (the default suite runs 90 s of it).
process.env.FEED_SIM_MS = '600000';
await import('../venues/feed-rate-limits.test.js');
