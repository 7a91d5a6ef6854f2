/** Telegram alerts (DESIGN §9): the durable queue, the Bot API client, the messages and the notifier actor. */
export { type AlertSources, type AlertSourcesOptions, createAlertSources } from './alert-sources.js';
export {
  type DigestData,
  digestText,
  governanceAlerts,
  HEALTH_ICON,
  healthAlert,
  stopRepairAlert,
} from './alert-text.js';
export { makeNotifierPump } from './notifier.actors.js';
export {
  type AlertInput,
  type AlertSeverity,
  createNotifier,
  NOTIFIER_DEFAULTS,
  type Notifier,
  type NotifierClock,
  type NotifierHealth,
  type NotifierOptions,
  type Notify,
  renderAlert,
} from './notifier.js';
export { createTelegramClient, type SendOutcome, type TelegramClient } from './telegram-client.js';
