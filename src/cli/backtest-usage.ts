/** `bosun backtest`'s usage lines (apart from the command, so `--help` does not load the strategy code). */
export const BACKTEST_USAGE = `  backtest [--seed N] [--paths N] [--bars N] [--asset BTC] [--tick-ms 5000]
           [--venue binance|kraken --symbol BTCUSDT [--until ISO] [--sim-url URL]]
           [--modes blend,hmm,trend,buy_and_hold] [--capital USD] [--max-notional USD] [--max-exposure USD]
           [--min-trade USD] [--cooldown-sec N] [--fee-bps N] [--spread-bps N] [--level-usd N] [--gap-bps N]
           [--trend-weight 0..1] [--warmup-bars N] [--calibration FILE] [--weights FILE]
           [--perp|--spot] [--leverage N] [--margin-mode cross|isolated] [--min-liq-distance PCT]
           [--html FILE] [--out FILE.json] [--json]`;
