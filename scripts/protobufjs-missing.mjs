// Stands in for `protobufjs`, which ccxt imports only for exchanges Bosun does not use (dydx) and does not
// install: the bundle links it here instead of failing to load. Any use names the missing package.
const missing = () => {
  throw new Error('protobufjs is not installed: the ccxt exchanges that need it (dydx) are not available in Bosun');
};
export default new Proxy({}, { get: missing });
