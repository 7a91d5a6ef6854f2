import diagnostics from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoopbackViolation } from './error-classifier.js';
import {
  type GuardableExchange,
  installFetchGuard,
  isLoopbackHost,
  isLoopbackUrl,
  isSameOrigin,
} from './loopback-guard.js';
import { pointExchangeAt } from './venue-urls.js';

describe('isLoopbackUrl', () => {
  it.each([
    'http://127.0.0.1:8080/api/v3/time',
    'http://127.8.9.10/x',
    'http://localhost:1/x',
    'http://LOCALHOST./x',
    'http://[::1]:9000/x',
    'ws://127.0.0.1:5/ws',
    'http://127.1/x', // the WHATWG parser normalises it to 127.0.0.1
    'http://0x7f000001/x',
    'http://[::ffff:127.0.0.1]/x',
  ])('accepts %s', (url) => {
    expect(isLoopbackUrl(url)).toBe(true);
  });

  it.each([
    'https://api.binance.com/api/v3/time',
    'https://api.kraken.com/0/public/Time',
    'http://127.0.0.1.nip.io/x',
    'http://localhost.evil.com/x',
    'http://127.0.0.1@api.binance.com/x',
    'http://10.0.0.1/x',
    'http://[::2]/x',
    'http://0.0.0.0/x',
    'file:///etc/passwd',
    'undefined/0/public/Time',
    '',
  ])('refuses %s', (url) => {
    expect(isLoopbackUrl(url)).toBe(false);
  });

  it('compares origins for live base-URL overrides', () => {
    expect(isSameOrigin('https://proxy.example:8443/api/v3/x', 'https://proxy.example:8443')).toBe(true);
    expect(isSameOrigin('https://api.binance.com/api/v3/x', 'https://proxy.example:8443')).toBe(false);
    expect(isLoopbackHost('[::1]')).toBe(true);
  });
});

describe('installFetchGuard', () => {
  it('refuses a non-loopback URL before the original fetch runs', async () => {
    let calls = 0;
    const ex: GuardableExchange = { id: 'fake', fetch: async () => ++calls };
    const guard = installFetchGuard(ex, isLoopbackUrl, 'paper');
    await expect(ex.fetch('https://api.binance.com/api/v3/time', 'GET')).rejects.toBeInstanceOf(LoopbackViolation);
    expect(calls).toBe(0);
    await expect(ex.fetch('http://127.0.0.1:1/api/v3/time', 'GET')).resolves.toBe(1);
    expect(guard.refused()).toBe(1);
  });

  it('refuses any request while a proxy is configured, loopback or not', async () => {
    let calls = 0;
    const ex: GuardableExchange & { httpsProxy: string } = {
      id: 'fake',
      fetch: async () => ++calls,
      httpsProxy: 'http://corp-proxy:3128',
    };
    installFetchGuard(ex, isLoopbackUrl, 'paper');
    await expect(ex.fetch('http://127.0.0.1:1/x')).rejects.toThrow(/proxy setting 'httpsProxy'/);
    expect(calls).toBe(0);
  });
});

describe('installFetchGuard on a real ccxt instance', () => {
  let server: Server;
  let base: string;
  const sockets: string[] = [];
  const onSocket = (msg: unknown) => {
    const s = (msg as { socket?: { remoteAddress?: string } }).socket;
    sockets.push(String(s?.remoteAddress ?? 'pending'));
  };
  const onUndici = (msg: unknown) => {
    const host = (msg as { connectParams?: { host?: string } }).connectParams?.host;
    sockets.push(`undici:${host}`);
  };

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"serverTime":1700000000000}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    diagnostics.subscribe('net.client.socket', onSocket);
    diagnostics.subscribe('undici:client:beforeConnect', onUndici);
  });

  afterAll(async () => {
    diagnostics.unsubscribe('net.client.socket', onSocket);
    diagnostics.unsubscribe('undici:client:beforeConnect', onUndici);
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('opens no socket for a URL that escaped the rewrite, and does open one for loopback (control)', async () => {
    const ex = new ccxt.binance({ enableRateLimit: false });
    pointExchangeAt(ex, base);
    const guard = installFetchGuard(ex, isLoopbackUrl, 'paper mode');
    sockets.length = 0;
    await expect(ex.fetchTime()).resolves.toBe(1_700_000_000_000);
    expect(sockets.length).toBeGreaterThan(0); // the probes do see connections

    sockets.length = 0;
    (ex.urls.api as Record<string, string>).public = 'https://api.binance.com/api/v3';
    await expect(ex.fetchTime()).rejects.toBeInstanceOf(LoopbackViolation);
    expect(sockets).toEqual([]);
    expect(guard.refused()).toBe(1);
    const dispatcher = (ex as unknown as { fetchDispatcher?: { close(): Promise<void> } }).fetchDispatcher;
    await dispatcher?.close();
  });
});
